import { OpenAPIObject } from '@nestjs/swagger';

/** Security schemes of the OpenAPI document: routes name them, configure-app declares them. */
export const BEARER_SCHEME = 'bearer';
export const OPERATOR_SCHEME = 'operator';

/** Where the operator API lives; its routes are documented apart from the tenant API. */
export const ADMIN_PATH_PREFIX = '/api/v1/admin/';

type Operations = OpenAPIObject['paths'][string];

/** Every `#/components/schemas/<name>` reachable from `roots` (walked without recursion). */
function referencedSchemas(roots: unknown[], schemas: Record<string, unknown>): Set<string> {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      stack.push(...(value as unknown[]));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        const name =
          key === '$ref' && typeof child === 'string'
            ? /^#\/components\/schemas\/(.+)$/.exec(child)?.[1]
            : undefined;
        if (name === undefined) {
          stack.push(child);
        } else if (!seen.has(name)) {
          seen.add(name);
          stack.push(schemas[name]);
        }
      }
    }
  }
  return seen;
}

/** The part of `document` whose paths `keep` selects, with only the schemas and tags they use. */
function subset(
  document: OpenAPIObject,
  keep: (path: string) => boolean,
  info: Partial<OpenAPIObject['info']>,
): OpenAPIObject {
  const paths = Object.fromEntries(
    Object.entries(document.paths).filter(([path]) => keep(path)),
  ) as Record<string, Operations>;
  const schemas = (document.components?.schemas ?? {}) as Record<string, unknown>;
  const used = referencedSchemas(Object.values(paths), schemas);
  const tags = new Set(
    Object.values(paths).flatMap((operations) =>
      Object.values(operations as Record<string, { tags?: string[] }>).flatMap(
        (operation) => operation?.tags ?? [],
      ),
    ),
  );
  return {
    ...document,
    info: { ...document.info, ...info },
    paths,
    tags: document.tags?.filter((tag) => tags.has(tag.name)),
    components: {
      ...document.components,
      schemas: Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name))),
    } as OpenAPIObject['components'],
  };
}

/** The tenant API (everything but /api/v1/admin/...) and the operator API, as two documents. */
export function splitDocument(document: OpenAPIObject): {
  tenant: OpenAPIObject;
  operator: OpenAPIObject;
} {
  const admin = (path: string) => path.startsWith(ADMIN_PATH_PREFIX);
  return {
    tenant: subset(document, (path) => !admin(path), {
      description:
        `${document.info.description ?? ''} The operator API is documented apart, at /admin-docs.`.trim(),
    }),
    operator: subset(document, admin, {
      title: `${document.info.title} — operator API`,
      description:
        'Cluster and tenant administration for service operators. Log in with POST ' +
        '/api/v1/admin/auth/login, then press Authorize and paste the `accessToken` under **operator**.',
    }),
  };
}
