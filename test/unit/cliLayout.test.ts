import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The CLI's layout: `cli/commands/*.ts` are the commands, thin over the services in the other folders of
 * `cli/`. A command that needs what another command does imports the service, never the command, and no
 * service imports a command (only `cli/main.ts` routes to them).
 */

const ROOT = resolve(import.meta.dirname, '../..');
const COMMANDS = join(ROOT, 'cli/commands');

/** Every module specifier a file names: static imports, re-exports, `import('…')` and `import x = require('…')`. */
function importSpecifiers(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      specifiers.push(node.moduleSpecifier.text);
    else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    )
      specifiers.push(node.arguments[0].text);
    else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    )
      specifiers.push(node.moduleReference.expression.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

/** The command modules a file imports, as paths from the project root. */
function commandsImportedBy(file: string): string[] {
  return importSpecifiers(file)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => resolve(dirname(file), specifier))
    .filter((target) => dirname(target) === COMMANDS)
    .map((target) => relative(ROOT, target));
}

const tsFilesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(dir, name));

describe('the CLI layout', () => {
  it('reads the imports of every command, dynamic ones included', () => {
    const commands = tsFilesUnder(COMMANDS);
    expect(commands.map((file) => relative(ROOT, file))).toContain('cli/commands/demo.ts');
    expect(importSpecifiers(join(ROOT, 'cli/main.ts'))).toContain('./commands/demo');
  });

  it('has no command that imports another command', () => {
    const offenders = tsFilesUnder(COMMANDS).flatMap((file) =>
      commandsImportedBy(file).map((command) => `${relative(ROOT, file)} imports ${command}`),
    );
    expect(offenders).toEqual([]);
  });

  it('has no service that imports a command: only cli/main.ts routes to them', () => {
    const services = tsFilesUnder(join(ROOT, 'cli')).filter(
      (file) => dirname(file) !== COMMANDS && file !== join(ROOT, 'cli/main.ts'),
    );
    const offenders = services.flatMap((file) =>
      commandsImportedBy(file).map((command) => `${relative(ROOT, file)} imports ${command}`),
    );
    expect(offenders).toEqual([]);
  });
});
