// Go's base64.StdEncoding: padded, no whitespace, nothing outside the alphabet. Buffer's decoder
// skips what it does not understand, which would turn a mistyped key into a different key.

export const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes like Go, throwing Go's `illegal base64 data at input byte N` on bad input. */
export function decodeStdBase64(text: string): Uint8Array {
  if (STD_BASE64.test(text)) return new Uint8Array(Buffer.from(text, "base64"));
  const bad = text.search(/[^A-Za-z0-9+/=]/);
  const padding = text.indexOf("=");
  const at = bad >= 0 && (padding < 0 || bad < padding) ? bad : padding >= 0 ? padding : text.length - (text.length % 4);
  throw new Error(`illegal base64 data at input byte ${at}`);
}
