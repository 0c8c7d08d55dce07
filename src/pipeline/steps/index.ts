/** The planning steps, in the order they apply (imgproxy's mainPipeline). */
import type { PlanContext } from '../plan.js';
import { adjust, blur, sharpen } from './effects.js';
import { output } from './output.js';
import { resize } from './resize.js';
import { rotateAndFlip } from './rotate-flip.js';
import { trim } from './trim.js';

export const steps: ReadonlyArray<(ctx: PlanContext) => void> = [
  trim,
  rotateAndFlip,
  resize,
  blur,
  sharpen,
  adjust,
  output,
];
