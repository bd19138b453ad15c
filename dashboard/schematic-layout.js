// Where the schematic's rings and site labels go: plain geometry on boxes and circles,
// no DOM (schematic.js draws). One unit is one screen pixel.

export const MARK_RADIUS = 11;
export const MARK_SPACING = 27;
export const MIN_RING = 22;

/** The area two boxes share (0 when they do not overlap). */
function overlap(a, b) {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** The radius of a ring that holds `count` markers side by side. */
export function ringOf(count) {
  return Math.max(MIN_RING, (count * MARK_SPACING) / (2 * Math.PI));
}

/** Push overlapping rings apart (a few relaxation passes), keeping them in the box. */
export function separate(nodes, width, height) {
  const gap = 10;
  for (let pass = 0; pass < 80; pass += 1) {
    let moved = false;
    for (let i = 0; i < nodes.length; i += 1) {
      for (let j = i + 1; j < nodes.length; j += 1) {
        const a = nodes[i];
        const b = nodes[j];
        let dx = b.x - a.x;
        let dy = b.y - a.y;
        let distance = Math.hypot(dx, dy);
        const wanted = a.r + b.r + MARK_RADIUS * 2 + gap;
        if (distance >= wanted) {
          continue;
        }
        if (distance < 0.01) {
          dx = 1;
          dy = 0;
          distance = 1;
        }
        const push = (wanted - distance) / 2;
        a.x -= (dx / distance) * push;
        a.y -= (dy / distance) * push;
        b.x += (dx / distance) * push;
        b.y += (dy / distance) * push;
        moved = true;
      }
    }
    for (const node of nodes) {
      const edge = node.r + MARK_RADIUS + 4;
      node.x = Math.min(width - edge, Math.max(edge, node.x));
      node.y = Math.min(height - edge, Math.max(edge + 28, node.y));
    }
    if (!moved) {
      break;
    }
  }
}

/** The boxes no label may cover: every marker, every site's dot and ring centre, the corner. */
export function labelObstacles(markerSpots, nodes) {
  // Labels must not hide a marker or a site's dot; crossing a ring's empty middle is fine.
  const pad = MARK_RADIUS + 2;
  const taken = markerSpots.map(({ x, y }) => ({ x: x - pad, y: y - pad, w: 2 * pad, h: 2 * pad }));
  for (const node of nodes) {
    taken.push({ x: node.at.x - 6, y: node.at.y - 6, w: 12, h: 12 });
    taken.push({ x: node.x - 8, y: node.y - 8, w: 16, h: 16 });
  }
  taken.push({ x: 0, y: 0, w: 200, h: 38 }); // the north arrow and scale bar
  return taken;
}

/**
 * Where a `w` x `h` label for `node` goes: the first side of its ring where it collides
 * with nothing in `taken`, else the least covered one. Returns the box and the anchor.
 */
export function labelSpot(node, w, h, taken, width, height) {
  const r = node.r + MARK_RADIUS + 5;
  const diagonal = r * 0.72;
  const candidates = [];
  // Beside, below, above, then the diagonals; each again a little further out. The
  // cost prefers the first ones: a label far from its ring reads as another site's.
  for (const spread of [0, 10]) {
    const d = r + spread;
    const dd = diagonal + spread;
    const cost = spread * 30;
    candidates.push(
      { x: node.x + d, y: node.y - h / 2, anchor: "start", cost },
      { x: node.x - d - w, y: node.y - h / 2, anchor: "end", cost },
      { x: node.x - w / 2, y: node.y + d - 2, anchor: "middle", cost: cost + 50 },
      { x: node.x - w / 2, y: node.y - d - h + 2, anchor: "middle", cost: cost + 50 },
      { x: node.x + dd, y: node.y + dd - 2, anchor: "start", cost: cost + 100 },
      { x: node.x - dd - w, y: node.y + dd - 2, anchor: "end", cost: cost + 100 },
      { x: node.x + dd, y: node.y - dd - h + 2, anchor: "start", cost: cost + 100 },
      { x: node.x - dd - w, y: node.y - dd - h + 2, anchor: "end", cost: cost + 100 },
    );
  }
  let best = null;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const box = { x: candidate.x, y: candidate.y, w, h };
    // Leaving the box hides text: worse than any overlap. Then the least covered wins.
    const outside = Math.max(0, -box.x) + Math.max(0, box.x + w - width)
      + Math.max(0, -box.y) + Math.max(0, box.y + h - height);
    const covered = taken.reduce((sum, other) => sum + overlap(box, other), 0);
    const score = (outside > 0 ? 1e7 + outside : 0) + covered + candidate.cost;
    if (score < bestScore) {
      best = { ...candidate, box };
      bestScore = score;
    }
    if (score === 0) {
      break;
    }
  }
  return best;
}
