import type { TeamSettings, User } from '../../api/types'
import { ADMIN_SECTIONS, adminPath, homePath, type AdminSection } from '../../router'
import type { EventStream } from '../../stream/types'
import { Link } from '../Link'
import type { AdminApi } from './adminApi'
import { AuditSection } from './AuditSection'
import { InvitesSection } from './InvitesSection'
import { MonitorDashboard, type MonitorApi } from './MonitorDashboard'
import { PeopleSection } from './PeopleSection'
import { TeamSection } from './TeamSection'
import '../settings/settings.css'
import './admin.css'

const SECTION_LABELS: Record<AdminSection, string> = {
  people: 'People',
  invites: 'Invites',
  audit: 'Audit log',
  team: 'Team settings',
  monitor: 'Monitor',
}

interface AdminPageProps {
  api: AdminApi
  stream: Pick<EventStream, 'onEvent' | 'onInfo' | 'info'>
  /** What the monitor dashboard asks the server; without it the Monitor section says so. */
  monitorApi?: MonitorApi
  section: AdminSection
  me: User
  /** The directory, to name people in invites and the audit log. */
  users: Readonly<Record<string, User>>
  team: TeamSettings | undefined
}

/** The admins' page (/admin/{section}): people, invites, the audit log and team settings. */
export function AdminPage({ api, stream, monitorApi, section, me, users, team }: AdminPageProps) {
  if (me.role !== 'admin') {
    return (
      <section className="settings admin" aria-labelledby="admin-heading">
        <AdminHeader />
        <div className="settings-body">
          <p role="alert">Only admins can open this page.</p>
        </div>
      </section>
    )
  }
  return (
    <section className="settings admin" aria-labelledby="admin-heading">
      <AdminHeader />
      <nav className="admin-nav" aria-label="Admin sections">
        {ADMIN_SECTIONS.map((s) => (
          <Link key={s} to={adminPath(s)} className="admin-tab" aria-current={s === section ? 'page' : undefined}>
            {SECTION_LABELS[s]}
          </Link>
        ))}
      </nav>
      <div className="settings-body">
        {section === 'people' && <PeopleSection api={api} stream={stream} me={me} />}
        {section === 'invites' && <InvitesSection api={api} users={users} />}
        {section === 'audit' && <AuditSection api={api} users={users} />}
        {section === 'team' && <TeamSection api={api} team={team} />}
        {section === 'monitor' &&
          (monitorApi ? (
            <MonitorDashboard api={monitorApi} stream={stream} users={users} />
          ) : (
            <p className="muted">The monitor is not available here.</p>
          ))}
      </div>
    </section>
  )
}

function AdminHeader() {
  return (
    <div className="settings-header">
      <Link to={homePath} className="back-link">
        <span aria-hidden="true">‹ </span>All chats
      </Link>
      <h1 id="admin-heading">Admin</h1>
    </div>
  )
}
