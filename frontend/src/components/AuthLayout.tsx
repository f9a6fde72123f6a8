import type { ReactNode } from 'react'

/** The centered card the signed-out screens share. */
export function AuthLayout({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth">
      <div className="auth-card">
        <p className="auth-brand" aria-hidden="true">
          Herald
        </p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  )
}
