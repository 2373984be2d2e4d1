'use strict'
// An SVG line chart of p50 latency against the number of other children.

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728']

function escapeXml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;')
}

/** `crowd` is the result of measureCrowd; one line per method. */
function latencyChart(crowd, title) {
  const width = 720
  const height = 420
  const left = 70
  const right = 230
  const top = 40
  const bottom = 60
  const xs = crowd.map((c) => c.otherChildren)
  const keys = Object.keys(crowd[0].latency)
  const maxY = Math.max(...crowd.flatMap((c) => keys.map((k) => c.latency[k].p50))) * 1.1
  const maxX = Math.max(...xs) || 1
  const x = (v) => left + ((width - left - right) * v) / maxX
  const y = (v) => height - bottom - ((height - top - bottom) * v) / maxY
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2 - right / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="black"/>`,
    `<text x="${(left + width - right) / 2}" y="${height - 18}" text-anchor="middle">other live children of the Node process</text>`,
    `<text transform="translate(18 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">p50 latency, kill to notification (µs)</text>`,
  ]
  for (let i = 0; i <= 5; i++) {
    const v = (maxY * i) / 5
    parts.push(`<line x1="${left - 4}" y1="${y(v)}" x2="${width - right}" y2="${y(v)}" stroke="#ddd"/>`)
    parts.push(`<text x="${left - 8}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`)
  }
  for (const v of xs) parts.push(`<text x="${x(v)}" y="${height - bottom + 18}" text-anchor="middle">${v}</text>`)
  keys.forEach((key, i) => {
    const color = COLORS[i % COLORS.length]
    const points = crowd.map((c) => `${x(c.otherChildren)},${y(c.latency[key].p50)}`).join(' ')
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points}"/>`)
    for (const c of crowd) parts.push(`<circle cx="${x(c.otherChildren)}" cy="${y(c.latency[key].p50)}" r="3.5" fill="${color}"/>`)
    const ly = top + 20 + i * 22
    parts.push(`<line x1="${width - right + 20}" y1="${ly - 4}" x2="${width - right + 45}" y2="${ly - 4}" stroke="${color}" stroke-width="2.5"/>`)
    parts.push(`<text x="${width - right + 52}" y="${ly}">${escapeXml(crowd[0].latency[key].method)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}

module.exports = { latencyChart }
