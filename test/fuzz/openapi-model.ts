/**
 * The operations of the service's own OpenAPI documents, as the fuzzer needs them: every path and
 * method with its parameters, request body schema (references resolved) and security scheme.
 */

/** The subset of JSON Schema that @nestjs/swagger emits and the generators understand. */
export interface JsonSchema {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  allOf?: JsonSchema[];
  $ref?: string;
  description?: string;
  default?: unknown;
  example?: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonSchema;
}

export type Security = 'bearer' | 'operator' | 'public';

export interface Operation {
  /** `POST /api/v1/notes`: the method and the documented path template. */
  key: string;
  /** Which document lists it. */
  document: string;
  method: string;
  path: string;
  operationId: string;
  parameters: Parameter[];
  body?: { required: boolean; schema: JsonSchema };
  security: Security;
  /** Documented status codes. */
  responses: string[];
  /** Roles named by the documented 403 ("Requires role: owner or admin"), if any. */
  requiredRoles?: string[];
}

interface RawOperation {
  operationId?: string;
  parameters?: Array<{
    name: string;
    in: Parameter['in'];
    required?: boolean;
    schema?: JsonSchema;
  }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  security?: Array<Record<string, unknown>>;
  responses?: Record<string, { description?: string }>;
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Checks the parts of a fetched document the fuzzer relies on; anything else is ignored. */
export function asOpenApiDocument(value: unknown, name: string): OpenApiDocument {
  const document = value as Partial<OpenApiDocument> | null;
  if (
    !document ||
    typeof document.openapi !== 'string' ||
    typeof document.paths !== 'object' ||
    document.paths === null
  ) {
    throw new Error(`${name} is not an OpenAPI 3 document`);
  }
  return document as OpenApiDocument;
}

/**
 * Inlines `$ref`s and merges `allOf`, so generators see plain schemas. Nest's documents have no
 * recursive schemas; the depth guard only keeps a future one from hanging the suite.
 */
export function resolveSchema(
  schema: JsonSchema | undefined,
  components: Record<string, JsonSchema>,
  depth = 0,
): JsonSchema {
  if (!schema) return {};
  if (depth > 20) throw new Error('schema nesting deeper than 20: recursive $ref?');
  if (schema.$ref) {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name === undefined ? undefined : components[name];
    if (!target) throw new Error(`unresolvable $ref ${schema.$ref}`);
    const { $ref: _ref, ...rest } = schema;
    return resolveSchema({ ...target, ...rest }, components, depth + 1);
  }
  let merged: JsonSchema = { ...schema };
  if (schema.allOf) {
    const { allOf, ...rest } = schema;
    merged = rest;
    for (const part of allOf) {
      const resolved = resolveSchema(part, components, depth + 1);
      merged = {
        ...resolved,
        ...merged,
        properties: { ...resolved.properties, ...merged.properties },
        required: [...(resolved.required ?? []), ...(merged.required ?? [])],
      };
    }
  }
  if (merged.properties) {
    merged.properties = Object.fromEntries(
      Object.entries(merged.properties).map(([key, child]) => [
        key,
        resolveSchema(child, components, depth + 1),
      ]),
    );
  }
  if (merged.items) merged.items = resolveSchema(merged.items, components, depth + 1);
  return merged;
}

function securityOf(operation: RawOperation): Security {
  const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
  if (schemes.includes('operator')) return 'operator';
  if (schemes.length > 0) return 'bearer';
  return 'public';
}

/** Every path and method of `document`, in document order. */
export function operationsOf(document: OpenApiDocument, name: string): Operation[] {
  const components = document.components?.schemas ?? {};
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, raw]): Operation => {
        const json = raw.requestBody?.content?.['application/json'];
        return {
          key: `${method.toUpperCase()} ${path}`,
          document: name,
          method: method.toUpperCase(),
          path,
          operationId: raw.operationId ?? `${method} ${path}`,
          parameters: (raw.parameters ?? []).map((parameter) => ({
            name: parameter.name,
            in: parameter.in,
            required: parameter.required === true || parameter.in === 'path',
            schema: resolveSchema(parameter.schema, components),
          })),
          body: raw.requestBody
            ? {
                required: raw.requestBody.required === true,
                schema: resolveSchema(json?.schema, components),
              }
            : undefined,
          security: securityOf(raw),
          responses: Object.keys(raw.responses ?? {}),
          requiredRoles: /^Requires role: (.+)$/
            .exec(raw.responses?.['403']?.description ?? '')?.[1]
            .split(' or '),
        };
      }),
  );
}

/** `/api/v1/notes/{id}` -> `['api', 'v1', 'notes', {param: 'id'}]`. */
export function pathSegments(path: string): Array<string | { param: string }> {
  return path
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment)?.[1];
      return param === undefined ? segment : { param };
    });
}

const STRING_KEYWORDS = ['minLength', 'maxLength', 'pattern', 'format'] as const;
const NUMBER_KEYWORDS = ['minimum', 'maximum'] as const;

/**
 * Contradictions inside request schemas: keywords that cannot apply to the declared type. Nest
 * renders a `string | null` property without an explicit `type` as `type: object`, keeping its
 * `maxLength`: clients generated from such a document send objects where strings are expected.
 */
export function schemaContradictions(schema: JsonSchema, where: string): string[] {
  const found: string[] = [];
  const type = schema.type;
  if (type && type !== 'string') {
    const misplaced = STRING_KEYWORDS.filter((keyword) => schema[keyword] !== undefined);
    if (misplaced.length > 0) found.push(`${where}: type ${type} with ${misplaced.join(', ')}`);
  }
  if (type && type !== 'number' && type !== 'integer') {
    const misplaced = NUMBER_KEYWORDS.filter((keyword) => schema[keyword] !== undefined);
    if (misplaced.length > 0) found.push(`${where}: type ${type} with ${misplaced.join(', ')}`);
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    found.push(...schemaContradictions(child, `${where}.${key}`));
  }
  if (schema.items) found.push(...schemaContradictions(schema.items, `${where}[]`));
  return found;
}

/**
 * The schema the generators use: an "object" without properties that carries string keywords is
 * the string the keywords describe (the contradiction above, reported by its own test), so the
 * fuzzer still reaches what lies behind the field.
 */
export function effectiveSchema(schema: JsonSchema): JsonSchema {
  const stringish = STRING_KEYWORDS.some((keyword) => schema[keyword] !== undefined);
  if (schema.type === 'object' && !schema.properties && stringish) {
    return { ...schema, type: 'string' };
  }
  return schema;
}
