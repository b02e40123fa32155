/**
 * The unpause forecast as JSON (docs/unpause-forecast.md#json): the Forecast of
 * src/forecast/model.ts, keys in a fixed order, two-space indented. Field names are a contract.
 */
import type { Forecast } from '../forecast/model.js';

export function renderForecastJson(forecast: Forecast): string {
  return `${JSON.stringify(forecast, null, 2)}\n`;
}
