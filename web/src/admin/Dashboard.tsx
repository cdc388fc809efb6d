import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ErrorMessage, Field, formatDate, Notice, Page, useSubmit } from '../shared/ui';
import {
  Activity,
  allPages,
  api,
  ClusterNode,
  LimitedTenant,
  LoadTracking,
  Rebalance,
  Registration,
  Shard,
  Table,
  TenantPlacement,
  UNFINISHED,
} from './api';
import { buildClusterMap, findTenants } from './cluster-map';
import { ClusterMap } from './ClusterMap';

interface Cluster {
  citus: boolean;
  checkedAt: string;
  nodes: ClusterNode[];
  tables: Table[];
  shards: Shard[];
  tenants: TenantPlacement[];
  loadTracking: LoadTracking;
}

async function loadCluster(): Promise<Cluster> {
  const [nodes, tables, tenantsFirst] = await Promise.all([
    api.call((client) => client.GET('/api/v1/admin/citus/nodes')),
    api.call((client) => client.GET('/api/v1/admin/citus/tables')),
    api.call((client) =>
      client.GET('/api/v1/admin/citus/tenants', { params: { query: { limit: 100 } } }),
    ),
  ]);
  const [shards, tenantsRest] = await Promise.all([
    nodes.citus
      ? allPages((cursor) =>
          api.call((client) =>
            client.GET('/api/v1/admin/citus/shards', {
              params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } },
            }),
          ),
        )
      : Promise.resolve([]),
    tenantsFirst.nextCursor
      ? allPages(
          (cursor) =>
            api.call((client) =>
              client.GET('/api/v1/admin/citus/tenants', {
                params: {
                  query: { limit: 100, cursor: cursor ?? (tenantsFirst.nextCursor as string) },
                },
              }),
            ),
          49,
        )
      : Promise.resolve([]),
  ]);
  return {
    citus: nodes.citus,
    checkedAt: nodes.checkedAt,
    nodes: nodes.nodes,
    tables: tables.tables,
    shards,
    tenants: [...tenantsFirst.items, ...tenantsRest],
    loadTracking: tenantsFirst.loadTracking,
  };
}

/** Nodes, the cluster map, tenants and their load, live activity, and the isolate / rebalance actions. */
export function Dashboard() {
  const [cluster, setCluster] = useState<Cluster | undefined>(undefined);
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const load = useSubmit(async () => setCluster(await loadCluster()));
  const reload = () => load.onSubmit(new Event('load'));
  useEffect(reload, []);

  const columns = useMemo(
    () =>
      cluster?.citus
        ? buildClusterMap(cluster.nodes, cluster.tables, cluster.shards, cluster.tenants)
        : [],
    [cluster],
  );
  const matches = useMemo(() => findTenants(cluster?.tenants ?? [], query), [cluster, query]);
  const tenant =
    cluster?.tenants.find((candidate) => candidate.id === selected) ??
    (matches.length === 1 ? matches[0] : undefined);

  return (
    <Page title="Cluster" wide>
      <ErrorMessage error={load.error} />
      {!cluster && !load.error && <p role="status">Loading the cluster…</p>}
      {cluster && !cluster.citus && (
        <Notice>
          Cluster features need Citus: this database is a plain PostgreSQL, so there are no workers,
          shards, cluster-wide activity, isolation or rebalancing to show. Nodes and tenants are
          listed as they are.
        </Notice>
      )}
      {cluster && (
        <>
          <div class="actions">
            <button type="button" class="secondary" onClick={reload} disabled={load.busy}>
              Refresh
            </button>
            <span class="hint">Checked {formatDate(cluster.checkedAt)}</span>
          </div>
          <Nodes nodes={cluster.nodes} />
          {cluster.citus && (
            <section aria-labelledby="map-heading">
              <h2 id="map-heading">Cluster map</h2>
              <div class="card">
                <Field
                  label="Find a tenant by name"
                  type="search"
                  value={query}
                  onValue={(value) => {
                    setQuery(value);
                    setSelected(undefined);
                  }}
                />
                <TenantFinder
                  query={query}
                  matches={matches}
                  tenant={tenant}
                  onSelect={setSelected}
                  nodes={cluster.nodes}
                  onIsolated={reload}
                />
              </div>
              <ClusterMap columns={columns} found={tenant} />
              <RebalancePanel onFinished={reload} />
            </section>
          )}
          <TenantLoad
            tenants={cluster.tenants}
            tracking={cluster.loadTracking}
            citus={cluster.citus}
            onSelect={(id) => {
              const chosen = cluster.tenants.find((candidate) => candidate.id === id);
              if (!chosen) return;
              setQuery(chosen.name);
              setSelected(id);
              document
                .getElementById(cluster.citus ? 'map-heading' : 'load-heading')
                ?.scrollIntoView();
            }}
          />
          <LimitedTenants />
          <LiveActivity citus={cluster.citus} />
          <Registrations />
        </>
      )}
    </Page>
  );
}

function Nodes(props: { nodes: ClusterNode[] }) {
  return (
    <section aria-labelledby="nodes-heading">
      <h2 id="nodes-heading">Nodes</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Role</th>
            <th scope="col">Address</th>
            <th scope="col">Health</th>
            <th scope="col">Shards</th>
            <th scope="col">Takes new shards</th>
          </tr>
        </thead>
        <tbody>
          {props.nodes.map((node) => (
            <tr key={node.id}>
              <td>{node.id}</td>
              <td>{node.role}</td>
              <td class="code">
                {node.host}:{node.port}
              </td>
              <td>
                <span class={node.healthy ? 'badge ok' : 'badge bad'}>
                  {node.healthy ? 'healthy' : 'unreachable'}
                </span>{' '}
                <span class="hint">
                  {node.checksPassed}/{node.checksTotal} checks
                </span>
              </td>
              <td>
                {node.shardCount}
                {node.draining && ' (draining)'}
              </td>
              <td>{node.shouldHaveShards ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function TenantFinder(props: {
  query: string;
  matches: TenantPlacement[];
  tenant?: TenantPlacement;
  nodes: ClusterNode[];
  onSelect: (id: string) => void;
  onIsolated: () => void;
}) {
  const { tenant } = props;
  const [target, setTarget] = useState('');
  const [result, setResult] = useState<string | undefined>(undefined);
  const isolate = useSubmit(async () => {
    if (!tenant) return;
    setResult(undefined);
    const answer = await api.call((client) =>
      client.POST('/api/v1/admin/citus/tenants/{id}/isolate', {
        params: { path: { id: tenant.id } },
        body: target ? { targetNodeId: Number(target) } : {},
      }),
    );
    setResult(
      `${tenant.name} now has shard ${answer.shardId} to itself on node ${answer.node.id} (${answer.node.host}:${answer.node.port}); it was on shard ${answer.previousShardId}.`,
    );
    props.onIsolated();
  });
  const workers = props.nodes.filter((node) => node.role === 'worker' && node.shouldHaveShards);

  return (
    <div role="region" aria-label="Tenant placement" aria-live="polite">
      {props.query.trim() && props.matches.length === 0 && (
        <p>No tenant name contains “{props.query}”.</p>
      )}
      {!tenant && props.matches.length > 1 && (
        <ul>
          {props.matches.slice(0, 10).map((match) => (
            <li key={match.id}>
              <button type="button" class="secondary" onClick={() => props.onSelect(match.id)}>
                {match.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {tenant && (
        <div>
          <p>
            <strong>{tenant.name}</strong>{' '}
            {tenant.node
              ? `is on shard ${tenant.shardId} on node ${tenant.node.id} (${tenant.node.host}:${tenant.node.port})`
              : 'has no shard placement'}
            {tenant.isolated
              ? ', isolated: the shard holds this tenant alone.'
              : ', sharing its shard with other tenants.'}{' '}
            {tenant.users} users, {tenant.notes} notes.
          </p>
          {result && (
            <p class="message info" role="status">
              {result}
            </p>
          )}
          <ErrorMessage error={isolate.error} />
          {!tenant.isolated && (
            <form class="actions" onSubmit={isolate.onSubmit}>
              <label for="isolate-target">Then move it to</label>
              <select
                id="isolate-target"
                value={target}
                onChange={(event) => setTarget(event.currentTarget.value)}
              >
                <option value="">stay on its current node</option>
                {workers.map((node) => (
                  <option key={node.id} value={String(node.id)}>
                    worker {node.id} ({node.host}:{node.port})
                  </option>
                ))}
              </select>
              <button type="submit" disabled={isolate.busy}>
                {isolate.busy ? 'Isolating…' : `Isolate ${tenant.name}`}
              </button>
              {isolate.busy && (
                <span role="status">
                  Copying its shards: its writes wait until the copy is done.
                </span>
              )}
            </form>
          )}
        </div>
      )}
    </div>
  );
}

function RebalancePanel(props: { onFinished: () => void }) {
  const [job, setJob] = useState<Rebalance | undefined>(undefined);
  const poll = async () =>
    setJob(await api.call((client) => client.GET('/api/v1/admin/citus/rebalance')));
  const start = useSubmit(async () => {
    const answer = await api.call((client) => client.POST('/api/v1/admin/citus/rebalance'));
    setJob(answer);
  });
  const running = job !== undefined && UNFINISHED.includes(job.state);
  useEffect(() => {
    void poll().catch(() => undefined);
  }, []);
  // When a job started here (or found running) ends, the map is drawn again from the new placement.
  const wasRunning = useRef(false);
  useEffect(() => {
    if (wasRunning.current && !running) props.onFinished();
    wasRunning.current = running;
    if (!running) return;
    const timer = setInterval(() => void poll().catch(() => undefined), 2000);
    return () => clearInterval(timer);
  }, [running]);

  const counts = (job?.details as { task_state_counts?: Record<string, number> } | null)
    ?.task_state_counts;
  const total = counts ? Object.values(counts).reduce((sum, count) => sum + count, 0) : 0;
  return (
    <div class="card" role="region" aria-labelledby="rebalance-heading">
      <h3 id="rebalance-heading">Rebalance</h3>
      <ErrorMessage error={start.error} />
      <p role="status">
        {job ? `${job.state}${job.description ? `: ${job.description}` : ''}` : 'No job shown yet.'}
        {counts && ` — ${counts.done ?? 0} of ${total} moves done`}
      </p>
      {counts && total > 0 && (
        <progress max={total} value={counts.done ?? 0} aria-label="Rebalance progress" />
      )}
      <div class="actions">
        <button type="button" onClick={start.onSubmit} disabled={start.busy || running}>
          Rebalance shards
        </button>
      </div>
    </div>
  );
}

function TenantLoad(props: {
  tenants: TenantPlacement[];
  tracking: LoadTracking;
  citus: boolean;
  onSelect: (id: string) => void;
}) {
  const [limit, setLimit] = useState(25);
  const sorted = [...props.tenants].sort(
    (a, b) =>
      (b.load?.queriesThisPeriod ?? -1) - (a.load?.queriesThisPeriod ?? -1) ||
      a.name.localeCompare(b.name),
  );
  return (
    <section aria-labelledby="load-heading">
      <h2 id="load-heading">Tenants and their load</h2>
      {!props.tracking.enabled && (
        <p class="hint">
          Load tracking is off (citus.stat_tenants_track = {props.tracking.setting || 'none'}): only
          sizes are shown.
        </p>
      )}
      <table>
        <caption class="visually-hidden">Tenants, busiest first (citus_stat_tenants)</caption>
        <thead>
          <tr>
            <th scope="col">Tenant</th>
            <th scope="col">Node</th>
            <th scope="col">Shard</th>
            <th scope="col">Users</th>
            <th scope="col">Notes</th>
            <th scope="col">Queries (this / last period)</th>
            <th scope="col">CPU s (this / last)</th>
          </tr>
        </thead>
        <tbody>
          {sorted.slice(0, limit).map((tenant) => (
            <tr key={tenant.id}>
              <td>
                {props.citus ? (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => props.onSelect(tenant.id)}
                    aria-label={`Show ${tenant.name} on the map`}
                  >
                    {tenant.name}
                  </button>
                ) : (
                  tenant.name
                )}
                {tenant.isolated && <span class="badge"> isolated</span>}
              </td>
              <td>
                {tenant.node ? `${tenant.node.id} (${tenant.node.host}:${tenant.node.port})` : '—'}
              </td>
              <td>{tenant.shardId ?? '—'}</td>
              <td>{tenant.users}</td>
              <td>{tenant.notes}</td>
              <td>
                {tenant.load
                  ? `${tenant.load.queriesThisPeriod} / ${tenant.load.queriesLastPeriod}`
                  : '—'}
              </td>
              <td>
                {tenant.load
                  ? `${tenant.load.cpuThisPeriod.toFixed(3)} / ${tenant.load.cpuLastPeriod.toFixed(3)}`
                  : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sorted.length > limit && (
        <p>
          <button type="button" class="secondary" onClick={() => setLimit(limit + 100)}>
            Show more tenants ({sorted.length - limit} more)
          </button>
        </p>
      )}
    </section>
  );
}

const LIMITS: Record<LimitedTenant['limit'], string> = {
  rate: 'requests a second',
  concurrency: 'requests in progress',
};

/** Tenants refused for their fair share lately (TENANT_RATE_LIMIT_PER_SECOND, TENANT_CONCURRENCY). */
function LimitedTenants() {
  const [items, setItems] = useState<LimitedTenant[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    const refresh = () =>
      api
        .call((client) => client.GET('/api/v1/admin/limited-tenants'))
        .then((answer) => {
          setItems(answer.items);
          setError(undefined);
        })
        .catch((caught: unknown) => setError(caught));
    void refresh();
    const timer = setInterval(() => void refresh(), 10_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <section aria-labelledby="limited-heading">
      <h2 id="limited-heading">Tenants over their share</h2>
      <ErrorMessage error={error} />
      {items.length === 0 ? (
        <p>No tenant went over its share in the last five minutes.</p>
      ) : (
        <table>
          <caption class="visually-hidden">
            Tenants refused in the last five minutes, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Tenant</th>
              <th scope="col">Over its</th>
              <th scope="col">Last refused</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={`${item.tenantId}-${item.limit}`}>
                <td>{item.tenantName ?? `tenant ${item.tenantId} (deleted)`}</td>
                <td>{LIMITS[item.limit]}</td>
                <td>{formatDate(item.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function LiveActivity(props: { citus: boolean }) {
  const [live, setLive] = useState(true);
  const [activity, setActivity] = useState<Activity[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    const refresh = () =>
      api
        .call((client) => client.GET('/api/v1/admin/citus/activity'))
        .then((answer) => {
          setActivity(answer.activity);
          setError(undefined);
        })
        .catch((caught: unknown) => setError(caught));
    void refresh();
    if (!live) return;
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, [live]);
  return (
    <section aria-labelledby="activity-heading">
      <h2 id="activity-heading">Live activity</h2>
      <label>
        <input type="checkbox" checked={live} onChange={() => setLive(!live)} /> Refresh every 5 s
      </label>
      <ErrorMessage error={error} />
      {activity.length === 0 ? (
        <p>No query is running{props.citus ? ' on any node' : ''} right now.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">State</th>
              <th scope="col">Waiting for</th>
              <th scope="col">Since</th>
              <th scope="col">Request</th>
              <th scope="col">Query</th>
            </tr>
          </thead>
          <tbody>
            {activity.map((row) => (
              <tr key={`${row.globalPid ?? ''}-${row.pid}-${row.node?.id ?? 0}`}>
                <td>{row.node ? `${row.node.id}` : '—'}</td>
                <td>
                  {row.state ?? '—'}
                  {row.workerQuery && ' (on a worker)'}
                </td>
                <td>{row.waitEvent ? `${row.waitEventType ?? ''} ${row.waitEvent}` : '—'}</td>
                <td>{row.queryStart ? formatDate(row.queryStart) : '—'}</td>
                <td
                  class="code"
                  title="X-Request-Id of the API request, req.id in the service's log"
                >
                  {row.requestId ?? '—'}
                </td>
                <td class="code">{row.query}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Registrations() {
  const [items, setItems] = useState<Registration[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    api
      .call((client) =>
        client.GET('/api/v1/admin/registrations', { params: { query: { limit: 10 } } }),
      )
      .then((answer) => setItems(answer.items))
      .catch((caught: unknown) => setError(caught));
  }, []);
  return (
    <section aria-labelledby="registrations-heading">
      <h2 id="registrations-heading">Latest registrations</h2>
      <ErrorMessage error={error} />
      <ul>
        {items.map((item) => (
          <li key={`${item.tenantId}-${item.userId}`}>
            {item.username} ({item.role}) in {item.tenantName} — {formatDate(item.createdAt)}
          </li>
        ))}
      </ul>
    </section>
  );
}
