// The enrollment QR code, rendered by the gateway as inline SVG: no external service sees the seed.
// Loaded on the first enrollment page rather than at start (memory: most requests never draw one).
export async function qrSvg(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
