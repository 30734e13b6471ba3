import { describe, expect, it } from 'vitest';
import {
  compileRouteTemplate,
  comparePrecedence,
  RouteTemplateError,
  splitPath,
} from '../../devhost/http/routeTemplate.js';

const cases: [template: string, path: string, expected: Record<string, string> | undefined][] = [
  ['workflows/{name}', 'workflows/research', { name: 'research' }],
  ['workflows/{name}', 'WORKFLOWS/Research', { name: 'Research' }],
  ['workflows/{name}', 'workflows', undefined],
  ['workflows/{name}', 'workflows/a/b', undefined],
  ['runs/{id?}', 'runs', {}],
  ['runs/{id?}', 'runs/42', { id: '42' }],
  ['runs/{id=latest}', 'runs', { id: 'latest' }],
  ['files/{*rest}', 'files/a/b/c.txt', { rest: 'a/b/c.txt' }],
  ['files/{*rest}', 'files', {}],
  ['files/{**rest}', 'files/x', { rest: 'x' }],
  ['items/{id:int}', 'items/12', { id: '12' }],
  ['items/{id:int}', 'items/-3', { id: '-3' }],
  ['items/{id:int}', 'items/abc', undefined],
  ['items/{id:int}', 'items/99999999999', undefined],
  ['items/{id:long}', 'items/99999999999', { id: '99999999999' }],
  ['items/{id:int?}', 'items', {}],
  ['users/{name:alpha}', 'users/ada', { name: 'ada' }],
  ['users/{name:alpha}', 'users/ada1', undefined],
  ['g/{id:guid}', 'g/0f8fad5b-d9cb-469f-a165-70867728950e', { id: '0f8fad5b-d9cb-469f-a165-70867728950e' }],
  ['g/{id:guid}', 'g/nope', undefined],
  ['b/{flag:bool}', 'b/TRUE', { flag: 'TRUE' }],
  ['d/{x:double}', 'd/1.5e3', { x: '1.5e3' }],
  ['d/{when:datetime}', 'd/2026-01-02', { when: '2026-01-02' }],
  ['r/{code:regex(^[a-z]{{2}}-\\d+$)}', 'r/ab-12', { code: 'ab-12' }],
  ['r/{code:regex(^[a-z]{{2}}-\\d+$)}', 'r/abc-12', undefined],
  ['s/{x:minlength(3):maxlength(5)}', 's/abcd', { x: 'abcd' }],
  ['s/{x:minlength(3):maxlength(5)}', 's/ab', undefined],
  ['s/{x:length(2)}', 's/ab', { x: 'ab' }],
  ['n/{x:range(1,10)}', 'n/10', { x: '10' }],
  ['n/{x:range(1,10)}', 'n/11', undefined],
  ['n/{x:min(5)}', 'n/4', undefined],
  ['f/{name}.{ext}', 'f/report.pdf', { name: 'report', ext: 'pdf' }],
  ['f/{name}.{ext}', 'f/report', undefined],
  ['/leading/slash/', 'leading/slash', {}],
  ['', '', {}],
];

describe('compileRouteTemplate', () => {
  it.each(cases)('%s matches %s', (template, path, expected) => {
    expect(compileRouteTemplate(template).match(splitPath(path))).toEqual(expected);
  });

  it('decodes segments but keeps %2F inside one segment', () => {
    expect(compileRouteTemplate('w/{name}').match(splitPath('/w/a%20b%2Fc/'))).toEqual({ name: 'a b/c' });
    expect(() => splitPath('/w/%E0%A4%A')).toThrow(URIError);
  });

  it.each([
    ['items/{id:nope}', /Unknown route constraint 'nope'/],
    ['items/{id:int(3)}', /takes no arguments/],
    ['items/{id:range(1)}', /expects 2/],
    ['a/{*rest}/b', /Catch-all/],
    ['a/{x?}/b', /only optional parameters/],
    ['a/{x}/{x}', /appears twice/],
    ['a/{x', /Unclosed/],
    ['a/{1x}', /Invalid route parameter name/],
    ['a/{x:regex([)}', /Invalid regex/],
  ])('rejects %s', (template, message) => {
    expect(() => compileRouteTemplate(template)).toThrow(RouteTemplateError);
    expect(() => compileRouteTemplate(template)).toThrow(message);
  });

  it('orders literal before constrained before plain before catch-all', () => {
    const templates = ['runs/{*rest}', 'runs/{id}', 'runs/{id:int}', 'runs/latest', 'runs/{a}.{b}'];
    const sorted = templates
      .map(compileRouteTemplate)
      .sort(comparePrecedence)
      .map((t) => t.template);
    expect(sorted).toEqual(['runs/latest', 'runs/{a}.{b}', 'runs/{id:int}', 'runs/{id}', 'runs/{*rest}']);
  });
});
