import { Link } from '../Link'
import { accountPath, homePath, settingsPath } from '../../router'

/** The settings pages' header: back to the chats, the page's heading, and the two pages as
 * links (aria-current on the open one). */
export function SettingsTabs({ current, headingId, title }: { current: 'notifications' | 'account'; headingId: string; title: string }) {
  return (
    <div className="settings-header">
      <Link to={homePath} className="back-link">
        <span aria-hidden="true">‹ </span>All chats
      </Link>
      <h1 id={headingId}>{title}</h1>
      <nav className="settings-tabs" aria-label="Settings pages">
        <Link to={settingsPath} aria-current={current === 'notifications' ? 'page' : undefined}>
          Notifications
        </Link>
        <Link to={accountPath} aria-current={current === 'account' ? 'page' : undefined}>
          Account
        </Link>
      </nav>
    </div>
  )
}
