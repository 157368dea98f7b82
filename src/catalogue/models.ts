/**
 * What the bot sells. Prices are in credits (the balance unit of the next milestone); option values are
 * slugs because they travel in callback data; locales/*.ftl name each one (`value-<option>-<value>`).
 */
export const CATEGORIES = ['image', 'video', 'audio'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface ModelOption {
  name: string;
  values: readonly string[];
  default: string;
}

export interface Model {
  id: string;
  category: Category;
  title: string;
  price: number;
  promptMaxLength: number;
  options: readonly ModelOption[];
}

const ASPECT: ModelOption = {
  name: 'aspect',
  values: ['1x1', '16x9', '9x16'],
  default: '1x1',
};

export const MODELS: readonly Model[] = [
  {
    id: 'flux-pro',
    category: 'image',
    title: 'Flux Pro',
    price: 4,
    promptMaxLength: 1000,
    options: [ASPECT],
  },
  {
    id: 'sdxl',
    category: 'image',
    title: 'Stable Diffusion XL',
    price: 2,
    promptMaxLength: 1000,
    options: [
      ASPECT,
      {
        name: 'style',
        values: ['photo', 'anime', 'art'],
        default: 'photo',
      },
    ],
  },
  {
    id: 'veo-fast',
    category: 'video',
    title: 'Veo Fast',
    price: 30,
    promptMaxLength: 800,
    options: [ASPECT, { name: 'duration', values: ['5', '10'], default: '5' }],
  },
  {
    id: 'kling',
    category: 'video',
    title: 'Kling',
    price: 25,
    promptMaxLength: 800,
    options: [{ name: 'duration', values: ['5', '10'], default: '5' }],
  },
  {
    id: 'suno',
    category: 'audio',
    title: 'Suno',
    price: 10,
    promptMaxLength: 500,
    options: [{ name: 'length', values: ['30', '120'], default: '30' }],
  },
];

export function isCategory(value: string | undefined): value is Category {
  return (CATEGORIES as readonly string[]).includes(value ?? '');
}

export function findModel(id: string | undefined): Model | undefined {
  return MODELS.find((model) => model.id === id);
}

export function modelsIn(category: Category): Model[] {
  return MODELS.filter((model) => model.category === category);
}

export function defaultOptions(model: Model): Record<string, string> {
  return Object.fromEntries(model.options.map((option) => [option.name, option.default]));
}

export type PromptCheck =
  | { ok: true; prompt: string }
  | { ok: false; detail: 'prompt empty' | 'prompt too long' };

export function checkPrompt(model: Model, text: string): PromptCheck {
  const prompt = text.trim();
  if (!prompt) return { ok: false, detail: 'prompt empty' };
  if (prompt.length > model.promptMaxLength) return { ok: false, detail: 'prompt too long' };
  return { ok: true, prompt };
}

export function isValidOption(model: Model, name: string, value: string): boolean {
  return model.options.some((option) => option.name === name && option.values.includes(value));
}

/** The options this model offers, from a draft that may hold another model's. */
export function validOptions(model: Model, options: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(options).filter(([name, value]) => isValidOption(model, name, value)),
  );
}
