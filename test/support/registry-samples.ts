import type { ButtonId } from '../../src/ui/registry.js';

/** Valid arguments for each button, consistent with one chat on Kling (video): category, model, option. */
export const SAMPLE_ARGS: Record<ButtonId, string[]> = {
  CATEGORY: ['video'],
  MODEL: ['kling'],
  OPEN_PARAMS: [],
  OPTION: ['duration', '10'],
  PARAMS_DONE: [],
  GENERATE: [],
  BALANCE: [],
  TOPUP: ['s150'],
  HISTORY: [],
  HISTORY_PAGE: ['1'],
  HISTORY_JOB: ['0b5e0f3c9d2a4e7f8a1b2c3d4e5f6a7b'],
  REPEAT: ['1c6f1a4d0e3b4f8a9b2c3d4e5f6a7b8c'],
  HELP: [],
  BACK: [],
  CANCEL: [],
  DEBUG_LIST: ['errors'],
  DEBUG_TRACE: ['4bf92f35'],
  DEBUG_PAGE: ['chain', '4bf92f35', '1'],
};
