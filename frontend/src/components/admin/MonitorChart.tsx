import { useEffect, useId, useRef } from 'react'
import type uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

/** One line of a chart: its name, the CSS variable its color comes from, its values. */
export interface ChartSeries {
  label: string
  /** A custom property of index.css (e.g. '--accent'), so the line follows light and dark. */
  color: string
  values: number[]
  /** Dashed, to tell a second line apart without color. */
  dashed?: boolean
}

interface MonitorChartProps {
  /** The chart's accessible name and visible title. */
  title: string
  /** Unix ms of each point. */
  times: number[]
  series: ChartSeries[]
  /** How a value reads in the summary and on the axis ("12 ms", "3.4 kB"). */
  format: (value: number) => string
  height?: number
  /** The window the x axis spans, ending now (ms); without it, the data's own span. */
  windowMs?: number
}

const DARK = '(prefers-color-scheme: dark)'

/** A time chart drawn by uPlot on a canvas. Its colors are index.css's variables, read again when
 * the color scheme changes; it takes its container's width. The canvas is hidden from assistive
 * technology: the figure is named by the title and carries a text summary of each line. */
export function MonitorChart({ title, times, series, format, height = 180, windowMs }: MonitorChartProps) {
  const ids = useId()
  const box = useRef<HTMLDivElement>(null)

  useEffect(() => {
    const el = box.current
    if (!el) return
    let plot: uPlot | null = null
    let UPlot: typeof uPlot | null = null
    let gone = false
    const draw = () => {
      if (!UPlot) return
      plot?.destroy()
      const css = getComputedStyle(el)
      const color = (name: string) => css.getPropertyValue(name).trim() || 'currentColor'
      const fg = color('--muted')
      const grid = color('--border')
      const axis: uPlot.Axis = {
        stroke: fg,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        font: '12px system-ui, sans-serif',
      }
      plot = new UPlot(
        {
          width: Math.max(200, el.clientWidth),
          height,
          legend: { show: false },
          cursor: { show: false },
          scales: {
            x: windowMs
              ? { time: true, range: () => xWindow(times, windowMs) }
              : { time: true },
            y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] } },
          axes: [axis, { ...axis, size: 64, values: (_u, ticks) => ticks.map(format) }],
          series: [
            {},
            ...series.map((s) => ({
              label: s.label,
              stroke: color(s.color),
              width: 2,
              ...(s.dashed ? { dash: [6, 4] } : {}),
              points: { show: times.length < 3 },
            })),
          ],
        },
        [times.map((t) => t / 1000), ...series.map((s) => s.values)],
        el,
      )
    }
    // Loaded with the first chart: uPlot stays out of the app's main bundle (and it reads
    // matchMedia as it loads, which only a browser has).
    void import('uplot').then((module) => {
      if (gone) return
      UPlot = module.default
      draw()
    })
    const scheme = window.matchMedia?.(DARK)
    scheme?.addEventListener('change', draw)
    const resize = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, el.clientWidth), height }))
    resize.observe(el)
    return () => {
      gone = true
      scheme?.removeEventListener('change', draw)
      resize.disconnect()
      plot?.destroy()
    }
  }, [times, series, format, height, windowMs])

  return (
    <figure className="monitor-chart" aria-labelledby={`${ids}-title`}>
      <figcaption id={`${ids}-title`}>{title}</figcaption>
      <ul className="monitor-legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.label}>
            <span className={s.dashed ? "monitor-swatch dashed" : "monitor-swatch"} style={{ borderColor: `var(${s.color})` }} />
            {s.label}
          </li>
        ))}
      </ul>
      <div ref={box} className="monitor-canvas" aria-hidden="true" />
      <p className="visually-hidden">{summarize(times, series, format)}</p>
    </figure>
  )
}

/** windowMs ending now (or at the last minute's end, if later), in uPlot's seconds. */
function xWindow(times: number[], windowMs: number): [number, number] {
  const end = Math.max(Date.now(), (times.at(-1) ?? 0) + 60_000)
  return [(end - windowMs) / 1000, end / 1000]
}

/** What the chart shows, in words: each line's range and its latest value. */
export function summarize(times: number[], series: ChartSeries[], format: (v: number) => string): string {
  if (times.length === 0) return 'No minutes recorded yet.'
  return series
    .map((s) => {
      const last = s.values.at(-1) ?? 0
      return `${s.label}: from ${format(Math.min(...s.values))} to ${format(Math.max(...s.values))}, latest ${format(last)}.`
    })
    .join(' ')
    .concat(` ${times.length} ${times.length === 1 ? 'minute' : 'minutes'}.`)
}
