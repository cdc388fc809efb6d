import { OpenAPIObject } from '@nestjs/swagger';
import { splitDocument } from './openapi';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const answer = (name: string, tag: string) => ({
  tags: [tag],
  responses: {
    '200': { description: 'ok', content: { 'application/json': { schema: ref(name) } } },
  },
});

const document: OpenAPIObject = {
  openapi: '3.0.0',
  info: { title: 'Notes service', description: 'Notes.', version: '1' },
  tags: [{ name: 'notes' }, { name: 'admin' }, { name: 'unused' }],
  paths: {
    '/api/v1/notes': { get: answer('NotesPage', 'notes') },
    '/api/v1/admin/citus/nodes': { get: answer('NodesAnswer', 'admin') },
    '/api/v1/administrators': { get: answer('Lookalike', 'notes') },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      NotesPage: { type: 'object', properties: { items: { type: 'array', items: ref('Note') } } },
      // A cycle: the walk must end.
      Note: { type: 'object', properties: { parent: ref('Note'), author: ref('Author') } },
      Author: { type: 'object' },
      NodesAnswer: { type: 'object', properties: { nodes: { type: 'array', items: ref('Node') } } },
      Node: { type: 'object' },
      Lookalike: { type: 'object' },
      Orphan: { type: 'object' },
    },
  },
};

describe(splitDocument.name, () => {
  const { tenant, operator } = splitDocument(document);

  it('should put /api/v1/admin/ routes in the operator document and the rest in the tenant one', () => {
    expect(Object.keys(tenant.paths)).toEqual(['/api/v1/notes', '/api/v1/administrators']);
    expect(Object.keys(operator.paths)).toEqual(['/api/v1/admin/citus/nodes']);
  });

  it('should keep only the schemas each document reaches, following nested refs and cycles', () => {
    expect(Object.keys(tenant.components?.schemas ?? {}).sort()).toEqual([
      'Author',
      'Lookalike',
      'Note',
      'NotesPage',
    ]);
    expect(Object.keys(operator.components?.schemas ?? {}).sort()).toEqual(['Node', 'NodesAnswer']);
  });

  it('should keep the security schemes and only the tags in use, and name the operator API', () => {
    expect(operator.components?.securitySchemes).toEqual(document.components?.securitySchemes);
    expect(tenant.tags).toEqual([{ name: 'notes' }]);
    expect(operator.tags).toEqual([{ name: 'admin' }]);
    expect(operator.info.title).toBe('Notes service — operator API');
    expect(tenant.info.description).toContain('/admin-docs');
    expect(document.paths['/api/v1/admin/citus/nodes']).toBeDefined();
  });
});
