// Signing up, confirming the email and signing in (TODO_AUTH=cognito): the account forms,
// one shown at a time, and what Cognito's refusals mean to the person at the keyboard.

import {
  CognitoError,
  CognitoUnreachable,
  confirmSignUp,
  passwordSignIn,
  signUp,
} from "./cognito.js";
import { begin, email, end } from "./session.js";
import { userPool } from "./settings.js";

const $ = (id) => document.getElementById(id);

const ui = {
  account: $("account"),
  title: $("account-title"),
  message: $("account-message"),
  error: $("account-error"),
  forms: { "sign-in": $("sign-in-form"), "sign-up": $("sign-up-form"), confirm: $("confirm-form") },
  where: $("confirm-where"),
  who: $("who"),
  whoEmail: $("who-email"),
  signOut: $("sign-out"),
};

const TITLES = { "sign-in": "Sign in", "sign-up": "Create an account", confirm: "Confirm your email" };

// Why the session ended, as the sign-in form says it (session.js's reasons).
const ENDED = {
  "signed-out": "You have signed out.",
  unauthorized: "Your session has ended. Sign in again.",
  expired: "Your session has expired. Sign in again.",
};

// The account waiting for its code, with the password to sign in with once it is confirmed.
// In memory only, and only until then.
let pending = null;

// A pool on this machine (./scripts/dev) sends no email: say where to look instead.
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
const localPool = () => LOCAL_HOSTS.has(new URL(userPool.endpoint).hostname);

// A form sent with a field left empty: the page's own refusal, before Cognito is asked.
class EmptyField extends Error {}

function explain(error) {
  if (error instanceof EmptyField) return error.message;
  if (error instanceof CognitoUnreachable) {
    return `Can't reach the sign-in service at ${userPool.endpoint}. Check your connection, then try again.`;
  }
  if (!(error instanceof CognitoError)) return `Something went wrong: ${error}`;
  switch (error.type) {
    case "UsernameExistsException":
      return "An account with this email already exists. Sign in instead.";
    case "InvalidPasswordException":
      return `Choose another password: ${error.message}`;
    case "NotAuthorizedException":
    case "UserNotFoundException": // the same words: never tell who has an account
      return "Incorrect email or password.";
    case "CodeMismatchException":
      return "That confirmation code is not right. Check it and type it again.";
    case "ExpiredCodeException":
      return `That confirmation code has expired: ${error.message}`;
    case "TooManyRequestsException":
    case "TooManyFailedAttemptsException":
    case "LimitExceededException":
      return "Too many attempts. Wait a minute, then try again.";
    default:
      return `${error.message} (${error.type})`;
  }
}

function showError(error) {
  ui.error.textContent = explain(error);
  ui.error.hidden = false;
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}

// One of the forms ("sign-in", "sign-up", "confirm"), with `message` above it.
export function showAccount(name, message = "") {
  ui.account.hidden = false;
  ui.who.hidden = true;
  ui.whoEmail.textContent = "";
  ui.title.textContent = TITLES[name];
  ui.message.textContent = message;
  clearError();
  for (const [formName, form] of Object.entries(ui.forms)) form.hidden = formName !== name;
  ui.forms[name].querySelector("input").focus();
}

export function showEnded(reason) {
  showAccount("sign-in", ENDED[reason] || "");
}

export function showSignedIn() {
  ui.account.hidden = true;
  ui.whoEmail.textContent = email();
  ui.who.hidden = false;
  for (const form of Object.values(ui.forms)) form.reset();
}

function askForCode(details, message = "") {
  const medium = details && details.DeliveryMedium ? details.DeliveryMedium.toLowerCase() : "email";
  const to = details && details.Destination ? details.Destination : pending.email;
  ui.where.textContent =
    `We sent a confirmation code by ${medium} to ${to}. Type it here to finish.` +
    (localPool()
      ? " (This user pool runs on this machine and sends no email: the terminal running" +
        " ./scripts/dev says which code to use.)"
      : "");
  showAccount("confirm", message);
}

// A form's submit: its button disabled meanwhile, Cognito's refusal shown, focus kept.
function handle(form, work) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await work(new FormData(form));
    } catch (error) {
      if (error instanceof CognitoError && error.type === "UserNotConfirmedException") {
        askForCode(null, "This account is not confirmed yet.");
        return;
      }
      showError(error);
      const expected = [EmptyField, CognitoError, CognitoUnreachable];
      if (!expected.some((kind) => error instanceof kind)) console.error(error);
    } finally {
      button.disabled = false;
    }
  });
}

// A form field's value; an email or a code without the spaces around it, a password as typed.
function field(data, name, { trim = true } = {}) {
  const raw = String(data.get(name) || "");
  const value = trim ? raw.trim() : raw;
  if (!value) throw new EmptyField(`Fill in the ${name === "code" ? "confirmation code" : name}.`);
  return value;
}

// Wires the forms; `signedIn()` runs once a user is signed in (the session has its tokens).
export function startAccount(signedIn) {
  const signIn = async (address, password) => {
    begin(await passwordSignIn(address, password));
    pending = null;
    showSignedIn();
    signedIn();
  };

  handle(ui.forms["sign-in"], async (data) => {
    const address = field(data, "email");
    const password = field(data, "password", { trim: false });
    pending = { email: address, password }; // in case Cognito asks for the code first
    try {
      await signIn(address, password);
    } catch (error) {
      const unconfirmed = error instanceof CognitoError && error.type === "UserNotConfirmedException";
      if (!unconfirmed) pending = null;
      throw error;
    }
  });

  handle(ui.forms["sign-up"], async (data) => {
    const address = field(data, "email");
    const password = field(data, "password", { trim: false });
    const answer = await signUp(address, password);
    pending = { email: address, password };
    if (answer.UserConfirmed) await signIn(address, password);
    else askForCode(answer.CodeDeliveryDetails);
  });

  handle(ui.forms.confirm, async (data) => {
    const code = field(data, "code");
    if (!pending) {
      showAccount("sign-in", "Sign in to finish confirming your account.");
      return;
    }
    await confirmSignUp(pending.email, code);
    await signIn(pending.email, pending.password);
  });

  for (const button of ui.account.querySelectorAll("[data-show]")) {
    button.addEventListener("click", () => {
      pending = null;
      showAccount(button.dataset.show);
    });
  }
  ui.signOut.addEventListener("click", () => end("signed-out"));
}
