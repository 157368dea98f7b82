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
  HELP: [],
  BACK: [],
  CANCEL: [],
  DEBUG_LIST: ['errors'],
  DEBUG_TRACE: ['4bf92f35'],
  DEBUG_PAGE: ['chain', '4bf92f35', '1'],
};
