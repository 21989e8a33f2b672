// The admin key the user signed in with: in this tab's sessionStorage only (gone when the tab closes), sent as a
// Bearer header by api.js and never put in a URL or logged.

const KEY = 'bandit-router.admin-key';

/** @returns {string | null} */
export function adminKey() {
  return sessionStorage.getItem(KEY);
}

/** @param {string} key */
export function signIn(key) {
  sessionStorage.setItem(KEY, key);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}
