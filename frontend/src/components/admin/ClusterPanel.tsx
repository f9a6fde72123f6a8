import { useEffect, useId, useState } from 'react'
import { errorMessage } from '../../api/client'
import type { ClusterNode, ClusterStatus } from '../../api/types'
import type { MonitorApi } from './MonitorDashboard'
import { count } from './monitorModel'

/**
 * GET /api/admin/monitor's cluster: once on mount, then again whenever tick changes (each
 * MONITOR_TICK) — but only while the server has one, so a single server is asked once.
 * undefined: not answered yet; null: a single server.
 */
function useCluster(api: MonitorApi, tick: unknown) {
  const [cluster, setCluster] = useState<ClusterStatus | null | undefined>(undefined)
  const [error, setError] = useState<string | null>(null)
  const single = cluster === null
  useEffect(() => {
    if (single) return
    let current = true
    api.getMonitor({ limit: 1 }).then(
      (page) => {
        if (!current) return
        setCluster(page.cluster ?? null)
        setError(null)
      },
      (err: unknown) => current && setError(errorMessage(err)),
    )
    return () => {
      current = false
    }
  }, [api, tick, single])
  return { cluster, error }
}

/** How long before the answering node's own time a node was last heard from. */
function lastSeen(node: ClusterNode, self: number): string {
  const s = Math.round((self - node.lastSeenAt) / 1000)
  return s <= 1 ? 'just now' : `${count(s)} s ago`
}

function lagText(lag: number): string {
  return lag === 0 ? 'up to date' : `${count(lag)} behind`
}

/** The cluster as the node serving this page sees it: its nodes, the writer, the log's sequence
 * and each node's lag. Renders nothing on a single server. */
export function ClusterPanel({ api, tick }: { api: MonitorApi; tick: unknown }) {
  const ids = useId()
  const { cluster, error } = useCluster(api, tick)
  if (cluster === null || (cluster === undefined && !error)) return null
  if (!cluster) {
    return (
      <p className="error" role="alert">
        Could not load the cluster: {error}
      </p>
    )
  }
  // The server's clock, not this browser's: the answering node lists itself as seen now.
  const self = Math.max(0, ...cluster.nodes.map((n) => n.lastSeenAt))
  return (
    <section className="admin-card monitor-cluster" aria-labelledby={`${ids}-h`}>
      <h3 id={`${ids}-h`}>Cluster</h3>
      <dl className="monitor-cluster-facts">
        <div>
          <dt>This node</dt>
          <dd>
            <bdi>{cluster.node}</bdi> ({cluster.role})
          </dd>
        </div>
        <div>
          <dt>Writer</dt>
          <dd>{cluster.writer ? <bdi>{cluster.writer}</bdi> : <span className="monitor-cluster-none">None at the moment</span>}</dd>
        </div>
        <div>
          <dt>Log sequence</dt>
          <dd className="num">{count(cluster.logSeq)}</dd>
        </div>
        <div>
          <dt>Applied here</dt>
          <dd>
            <span className="num">{count(cluster.appliedSeq)}</span>{' '}
            <span className={cluster.lag === 0 ? 'muted' : 'monitor-lagging'}>({lagText(cluster.lag)})</span>
          </dd>
        </div>
      </dl>
      {error && (
        <p className="error" role="alert">
          Could not refresh the cluster: {error}
        </p>
      )}
      <div className="monitor-table-wrap" role="region" aria-label="Cluster nodes table" tabIndex={0}>
        <table className="monitor-table">
          <caption className="visually-hidden">
            Cluster nodes: {cluster.nodes.length} heard from in the last seconds
          </caption>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Role</th>
              <th scope="col">Applied</th>
              <th scope="col">Lag</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {cluster.nodes.map((n) => (
              <tr key={n.name} className={n.name === cluster.node ? 'monitor-cluster-self' : undefined}>
                <th scope="row" title={n.advertise}>
                  <bdi>{n.name}</bdi>
                  {n.name === cluster.node && <span className="muted"> (this node)</span>}
                </th>
                <td>{n.role === 'writer' ? <span className="monitor-writer">Writer</span> : 'Replica'}</td>
                <td className="num">{count(n.appliedSeq)}</td>
                <td className={n.lag === 0 ? 'num' : 'num monitor-lagging'}>{lagText(n.lag)}</td>
                <td>
                  <time dateTime={new Date(n.lastSeenAt).toISOString()}>{lastSeen(n, self)}</time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}
