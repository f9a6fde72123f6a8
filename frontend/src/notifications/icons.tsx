// The icon of each toast kind: small inline SVG drawn with currentColor (the kind's color), so
// they show everywhere, emoji font or not. Decorative: the toast's text names the kind.
import type { ReactNode } from 'react'
import type { ToastKind } from './kinds'

const PATHS: Record<ToastKind, ReactNode> = {
  // A speech bubble.
  message: <path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z" />,
  // An @.
  mention: (
    <>
      <circle cx="12" cy="12" r="4" />
      <path d="M16 8v5a3 3 0 0 0 6 0v-1a10 10 0 1 0-3.92 7.94" />
    </>
  ),
  // A check mark.
  'task-succeeded': <path d="M20 6 9 17l-5-5" />,
  // A cross.
  'task-failed': <path d="M18 6 6 18M6 6l12 12" />,
  // A robot's head.
  agent: (
    <>
      <rect x="4" y="8" width="16" height="12" rx="2" />
      <path d="M12 8V5" />
      <circle cx="12" cy="4" r="1" />
      <path d="M9 13v2M15 13v2M2 13v3M22 13v3" />
    </>
  ),
  // An i in a circle.
  'system-info': (
    <>
      <circle cx="12" cy="12" r="10" />
      <path d="M12 16v-4M12 8h.01" />
    </>
  ),
  // A warning triangle.
  'system-warning': (
    <>
      <path d="M10.29 3.86 1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0z" />
      <path d="M12 9v4M12 17h.01" />
    </>
  ),
  // A stop octagon with an exclamation mark.
  'system-critical': (
    <>
      <path d="M7.86 2h8.28L22 7.86v8.28L16.14 22H7.86L2 16.14V7.86z" />
      <path d="M12 8v4M12 16h.01" />
    </>
  ),
  // A page with a folded corner.
  file: (
    <>
      <path d="M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8z" />
      <path d="M14 2v6h6" />
    </>
  ),
}

/** The kind's icon, hidden from assistive technology. */
export function KindIcon({ kind, size = 16 }: { kind: ToastKind; size?: number }) {
  return (
    <svg
      aria-hidden="true"
      focusable="false"
      className="kind-icon"
      data-kind={kind}
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2.2"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {PATHS[kind]}
    </svg>
  )
}
