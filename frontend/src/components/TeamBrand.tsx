import { useState } from 'react'
import type { TeamSettings } from '../api/types'
import { initials, isImageAvatar } from './Avatar'

/** Where the team's icon is drawn from at 64 or 256 px, or null without one: the server's own
 * uploaded icon (`/api/team/icon?v=N`, a size added), else an https URL an admin set. */
export function teamIconSrc(iconUrl: string | undefined, size: 64 | 256): string | null {
  if (!iconUrl) return null
  if (iconUrl.startsWith('/api/team/icon?')) return `${iconUrl}&size=${size}`
  return isImageAvatar(iconUrl) ? iconUrl : null
}

/** The team's icon, or its initials on a square when it has none (or the picture fails to
 * load). Decorative: the team's name is written next to it. */
export function TeamIcon({ team, size = 24 }: { team: TeamSettings | undefined; size?: number }) {
  const name = team?.name ?? 'Herald'
  const src = teamIconSrc(team?.iconUrl, size <= 32 ? 64 : 256)
  // The source that failed to load; a new one (TEAM_UPDATED) is tried.
  const [failed, setFailed] = useState<string | null>(null)
  const style = { width: size, height: size, lineHeight: `${size}px`, fontSize: Math.round(size * 0.45) }
  if (src && src !== failed) {
    return (
      <img
        className="team-icon"
        src={src}
        alt=""
        width={size}
        height={size}
        style={style}
        referrerPolicy="no-referrer"
        onError={() => setFailed(src)}
      />
    )
  }
  return <span className="team-icon team-initials" aria-hidden="true" data-initials={initials(name)} style={style} />
}

/** The app bar's start, over the sidebar: the team's icon and name, live as TEAM_UPDATED
 * changes them. */
export function TeamBrand({ team }: { team: TeamSettings | undefined }) {
  return (
    <span className="brand">
      <TeamIcon team={team} />
      <span className="brand-name" dir="auto">
        {team?.name ?? 'Herald'}
      </span>
    </span>
  )
}
