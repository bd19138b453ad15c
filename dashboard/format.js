// Number and time formatting shared by the panels. Times are shown in Stockport's zone.

export const TIME_ZONE = "Europe/London";
export const NO_DATA = "—";

const clockFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});
const shortTimeFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const dayFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE, weekday: "short", day: "numeric", month: "short",
});
const dayKeyFormat = new Intl.DateTimeFormat("en-CA", {
  timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit",
});

const numberFormats = new Map();

function numberFormat(digits) {
  if (!numberFormats.has(digits)) {
    numberFormats.set(digits, new Intl.NumberFormat("en-GB", {
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    }));
  }
  return numberFormats.get(digits);
}

/** True for a finite JSON number (null and undefined mean "no data"). */
export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

/**
 * A number for display: fewer decimals as it grows, thousands separated, "—" for no data.
 *
 * @param {number|null|undefined} value
 * @param {number} [digits] fixed number of decimals (default: by magnitude)
 */
export function formatNumber(value, digits) {
  if (!isNumber(value)) {
    return NO_DATA;
  }
  if (digits === undefined) {
    const size = Math.abs(value);
    digits = size === 0 || size >= 100 ? 0 : size >= 10 ? 1 : 2;
  }
  return numberFormat(digits).format(value);
}

/**
 * Axis ticks: 1.2k, 35, 0.25. ``step`` (the distance between ticks) sets the decimals, so
 * that neighbouring ticks never print alike.
 */
export function formatCompact(value, step = 1) {
  if (!isNumber(value)) {
    return "";
  }
  const size = Math.abs(value);
  const decimalsFor = (increment) => {
    for (let digits = 0; digits < 6; digits += 1) {
      const scaled = Math.abs(increment) * 10 ** digits;
      if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) {
        return digits;
      }
    }
    return 6;
  };
  if (size >= 1000 && Math.abs(step) >= 100) {
    return `${numberFormat(decimalsFor(step / 1000)).format(value / 1000)}k`;
  }
  return numberFormat(decimalsFor(step)).format(value);
}

/** A Date from an RFC 3339 string (or null). */
export function parseTime(text) {
  if (!text) {
    return null;
  }
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "14:05:09" in Stockport. */
export function clockTime(date) {
  return date ? clockFormat.format(date) : NO_DATA;
}

/** "14:05" in Stockport, with the day when it is not today. */
export function shortTime(date, now = new Date()) {
  if (!date) {
    return NO_DATA;
  }
  const time = shortTimeFormat.format(date);
  return dayKeyFormat.format(date) === dayKeyFormat.format(now) ? time : `${dayFormat.format(date)} ${time}`;
}

/** "Thu 26 Nov" in Stockport. */
export function dayLabel(date) {
  return dayFormat.format(date);
}

/** A duration for people: "45 s", "12 min", "3 h 05 min", "2 days". */
export function formatDuration(seconds) {
  if (!isNumber(seconds)) {
    return NO_DATA;
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) {
    return `${s} s`;
  }
  const minutes = Math.round(s / 60);
  if (minutes < 90) {
    return `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  }
  return `${Math.floor(hours / 24)} days`;
}

/** Replace an element's text only when it changed (keeps screen readers quiet). */
export function setText(element, text) {
  if (element && element.textContent !== text) {
    element.textContent = text;
  }
}

const londonParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

function partsOf(date) {
  const parts = Object.fromEntries(londonParts.formatToParts(date).map((p) => [p.type, p.value]));
  return parts;
}

/** "2026-11-26T14:05": a Date as a datetime-local input value, on the London clock. */
export function toLondonInput(date) {
  const p = partsOf(date);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/**
 * A datetime-local value read on the London clock (whatever the browser's own zone is),
 * as a Date; null when the text is not a date and time.
 */
export function fromLondonInput(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text || "");
  if (!match) {
    return null;
  }
  const [, y, mo, d, h, mi] = match.map(Number);
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  // London's offset at that moment: the difference between its wall clock and UTC.
  const offsetAt = (ms) => {
    const p = partsOf(new Date(ms));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - ms;
  };
  const first = guess - offsetAt(guess);
  return new Date(guess - offsetAt(first));
}

/** A bucket length in words: 60 -> "1-minute", 900 -> "15-minute", 3600 -> "1-hour". */
export function stepWords(seconds) {
  if (seconds < 3600) {
    return `${seconds / 60}-minute`;
  }
  return seconds < 86400 ? `${seconds / 3600}-hour` : "1-day";
}
