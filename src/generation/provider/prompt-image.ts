import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';

const SIZES: Record<string, [number, number]> = {
  '1x1': [256, 256],
  '16x9': [320, 180],
  '9x16': [180, 320],
};

/**
 * A real PNG that depends on the prompt: a diagonal gradient between two colours and a grid of tiles,
 * all taken from the SHA-256 of model, prompt and options. The same order gives the same picture,
 * another prompt another one, so a wrong delivery is visible.
 */
export function promptImage(model: string, input: Record<string, string>): Buffer {
  const digest = createHash('sha256')
    .update(JSON.stringify([model, input]))
    .digest();
  const [width, height] = SIZES[input.aspect ?? '1x1'] ?? [256, 256];
  const png = new PNG({ width, height });
  const from = [digest[0] ?? 0, digest[1] ?? 0, digest[2] ?? 0];
  const to = [digest[3] ?? 0, digest[4] ?? 0, digest[5] ?? 0];
  const tile = 16 + ((digest[6] ?? 0) % 32);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const t = (x / width + y / height) / 2;
      const cell = digest[7 + ((Math.floor(x / tile) + Math.floor(y / tile)) % 25)] ?? 0;
      const shade = cell > 127 ? 1 : 0.8;
      const offset = (y * width + x) * 4;
      for (let channel = 0; channel < 3; channel += 1) {
        const a = from[channel] ?? 0;
        const b = to[channel] ?? 0;
        png.data[offset + channel] = Math.round((a + (b - a) * t) * shade);
      }
      png.data[offset + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
