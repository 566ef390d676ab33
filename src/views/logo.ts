// The logo of `ui.logoFile`: an SVG or PNG read once at start and inlined in every page as a data: URI in an
// <img>, so the pages stay self-contained (no request for it, nothing external) under the strict CSP
// (`img-src 'self' data:`). An SVG shown through <img> runs no script and loads nothing, so it needs no
// sanitising; it is still checked to be an SVG or a PNG, and small, because every page carries it.
import { readBounded, readError, type TooLarge } from '../platform/read-bounded.ts';

/** Inlined in every page (about a third more as base64): keep it a small SVG or an optimised PNG. */
export const MAX_LOGO_BYTES = 16 * 1024;

export interface Logo { type: 'image/svg+xml' | 'image/png'; bytes: number; dataUri: string }

/** A problem with the logo file, worded for the configuration report (the file name is not repeated). */
export class LogoError extends Error {}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// Optional BOM, XML declaration, comments and doctype, then the <svg> root element.
const SVG_START = /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*<svg[\s>]/i;

/** Reads and checks a logo file; throws LogoError saying what is wrong. */
export function readLogo(file: string): Logo {
  let bytes: Buffer;
  try {
    bytes = readBounded(file, MAX_LOGO_BYTES);
  } catch (err) {
    const size = (err as TooLarge).code === 'EFBIG' ? (err as TooLarge).size : null;
    if (size === null) throw new LogoError(`cannot read the file it names (${readError(err)})`);
    // A device such as /dev/zero never ends: it was read no further than the limit.
    throw new LogoError(size === undefined ? 'is not a regular file of at most 16 KiB' : tooLarge(size));
  }
  let type: Logo['type'];
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) type = 'image/png';
  else if (SVG_START.test(bytes.toString('utf8', 0, Math.min(bytes.length, 4096)))) type = 'image/svg+xml';
  else throw new LogoError('is not an SVG or PNG image (the file must start with an <svg> element or the PNG signature); convert the logo to SVG or PNG');
  return { type, bytes: bytes.length, dataUri: `data:${type};base64,${bytes.toString('base64')}` };
}

const tooLarge = (size: number) =>
  `is ${(size / 1024).toFixed(1)} KiB; the logo is inlined in every page, so it may be at most ${MAX_LOGO_BYTES / 1024} KiB (an SVG, or a PNG of about 200 × 60 pixels, fits easily)`;

const loaded = new Map<string, Logo>();
/** The logo of a file, read on first use (at start: the assets plugin asks for it) and kept for the process. */
export function logoOf(file: string): Logo {
  let logo = loaded.get(file);
  if (!logo) { logo = readLogo(file); loaded.set(file, logo); }
  return logo;
}
