import { matchDetector } from './match.js';
import { newValueDetector } from './new-value.js';
import { sequenceDetector } from './sequence.js';
import { thresholdDetector } from './threshold.js';
import type { AnyDetector } from './types.js';
import { velocityDetector } from './velocity.js';

export const DETECTOR_KINDS = ['match', 'threshold', 'new_value', 'velocity', 'sequence'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

export const DETECTORS: Readonly<Record<DetectorKind, AnyDetector>> = {
  match: matchDetector,
  threshold: thresholdDetector,
  new_value: newValueDetector,
  velocity: velocityDetector,
  sequence: sequenceDetector,
};

export type { AnyDetector, Detector, Finding, StepResult } from './types.js';
