/** Dashboard uids: stable, so alert annotations and bookmarks keep working across regenerations. */
export const DASHBOARD_UID = {
  OVERVIEW: 'tracegram-overview',
  JOURNEYS: 'tracegram-journeys',
  PAYMENTS: 'tracegram-payments',
  GENERATIONS: 'tracegram-generations',
} as const;
