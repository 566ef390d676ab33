// The enrollment QR code, rendered by the gateway as inline SVG: no external service sees the seed.
import QRCode from 'qrcode';

export async function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
