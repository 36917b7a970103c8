"""The domain: the todo and its rules, ids, cursors and errors. Imports no other layer."""
