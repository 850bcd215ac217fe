/**
 * How long ago `then` was, seen from `now`, in the largest unit that keeps the number readable: "42 s ago",
 * "5 min ago", "3 h ago", "12 d ago". Seconds up to two minutes, where a person watching a consumer cares about each
 * one. A `then` after `now` (the browser's clock behind the server's) reads "0 s ago" rather than a negative age.
 */
export function timeAgo(then: Date, now: number): string {
  const seconds = Math.max(0, Math.floor((now - then.getTime()) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}
