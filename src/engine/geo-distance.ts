const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km (haversine). Good to a few km, which is far finer than GeoIP. */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Half the Earth's circumference: no two places are further apart. */
export const MAX_DISTANCE_KM = Math.PI * EARTH_RADIUS_KM;
