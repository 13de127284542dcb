// Registration for UI tests (ui/*.test.mjs): `test(name, async ({ workbench }) => { ... })`.
const registered = [];

/**
 * Declares a UI test. It gets a fresh VS Code window with the extension loaded from source:
 * `workbench` (see workbench.mjs), `page` (playwright), `folder` (the window's workspace folder) and
 * `screenshot(name)`.
 */
export function test(name, fn, { timeout = 180_000 } = {}) {
  registered.push({ name, fn, timeout });
}

export function registeredUiTests() {
  return registered;
}
