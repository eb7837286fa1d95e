// Headless Chromium driven by playwright-core, as the project's browser tests and benchmarks need it:
// CHROMIUM_PATH, else the system's Chromium, else the one shipped in @sparticuz/chromium.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { resolveChromium } from '../../local/binaries.ts';
import { ROOT } from './stack.ts';

export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  const binary = await resolveChromium();
  return chromium.launch({
    executablePath: binary.path,
    env: { ...process.env, ...binary.env } as Record<string, string>,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
