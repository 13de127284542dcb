// Editor steps shared by UI tests, done with the keyboard as a person would.

/** Opens the workspace's sample.txt with Quick Open and selects all of it. */
export async function openSampleAndSelectAll(page) {
  // Quick Open keeps its input visible, so it is driven here rather than through runCommand.
  await page.locator('.monaco-workbench .part.editor').click({ position: { x: 20, y: 60 } });
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 30_000 });
  await page.keyboard.type('sample.txt');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sample.txt' }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
}
