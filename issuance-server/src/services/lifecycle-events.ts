/** The committed-change events, as the layers above the services see them. */
export type { ApplicationChanged, AttemptChanged } from '../store/change-feed.ts';
