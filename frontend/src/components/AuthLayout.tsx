import type { ReactNode } from 'react'
import { ChangeTeamButton } from '../desktop/DesktopTeamSettings'

/** The centered card the signed-out screens share. In the desktop app it also offers to change
 * the team, so that a wrong server address or invite is never a dead end. */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth">
      <div className="auth-card">
        <p className="auth-brand" aria-hidden="true">
          Herald
        </p>
        <h1>{title}</h1>
        {children}
        <div className="auth-change-team">
          <ChangeTeamButton />
        </div>
      </div>
    </main>
  )
}
