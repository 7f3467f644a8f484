import type { BrowserContext } from 'playwright-core';

export declare const CHROMIUM_PATH: string;
export declare const CHROMIUM_ARGS: readonly string[];
export declare function hasChromium(): boolean;
export declare function launchChromium(options?: { viewport?: { width: number; height: number }; timeoutMs?: number }): Promise<{ context: BrowserContext; close(): Promise<void> }>;
