export type { CallMatch, CallsPredicate, RecordedCall } from './calls.js';
export { BotApiError, DESCRIPTION } from './errors.js';
export type { Fault } from './faults.js';
export type { ButtonSelector } from './markup.js';
export { BotApiStandIn, type StandInOptions, startBotApiStandIn } from './stand-in.js';
export { SimulatedUser, type UserProfile } from './user-sim.js';
export type { WebhookDelivery } from './webhook.js';
export type { CallbackAnswer, StarPayment } from './world.js';
