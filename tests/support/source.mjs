// Shipped JavaScript read as a parser reads it (TypeScript's), so that a
// test checks what a module says (its directives, what it imports and
// exports), never how a build happened to format it.
import ts from "typescript";

const parse = (source) => ts.createSourceFile("module.js", source, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);

/** The module's directive prologue: its leading string statements ("use client", ...). */
export function directives(source) {
  const out = [];
  for (const statement of parse(source).statements) {
    if (!ts.isExpressionStatement(statement) || !ts.isStringLiteral(statement.expression)) break;
    out.push(statement.expression.text);
  }
  return out;
}

/** Every module specifier the module imports or re-exports from, statically or with import(). */
export function importSpecifiers(source) {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The names the module exports (declarations and export lists; `default` for a default export). */
export function exportedNames(source) {
  const names = [];
  for (const statement of parse(source).statements) {
    const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    const isDefault = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const e of statement.exportClause.elements) names.push(e.name.text);
    } else if (ts.isExportAssignment(statement)) {
      names.push("default");
    } else if (exported && isDefault) {
      names.push("default");
    } else if (exported && ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) if (ts.isIdentifier(d.name)) names.push(d.name.text);
    } else if (exported && statement.name && ts.isIdentifier(statement.name)) {
      names.push(statement.name.text);
    }
  }
  return names;
}

/**
 * Whether the read of global `name` that a stack trace places at
 * `line`:`column` (1-based) is a `typeof name` guard: it reads the global
 * without needing it. (V8 places such a read at the `typeof`, others at the
 * identifier: either is accepted.)
 */
export function isTypeofGuard(source, line, column, name) {
  const file = parse(source);
  const pos = file.getPositionOfLineAndCharacter(line - 1, column - 1);
  let guard = false;
  const visit = (node) => {
    if (node.getStart(file) > pos || pos >= node.getEnd()) return;
    if (ts.isTypeOfExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name) guard = true;
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (guard) return true;
  // V8 may place the read at the start of the statement that holds the
  // guard (`if (typeof window === ...)`): a `typeof name` in a node that
  // starts there counts.
  const within = (node) =>
    (ts.isTypeOfExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === name) ||
    (ts.forEachChild(node, within) ?? false);
  const starting = (node) => {
    if (node.getStart(file) === pos && within(node)) return true;
    if (node.getStart(file) > pos || pos >= node.getEnd()) return false;
    return ts.forEachChild(node, starting) ?? false;
  };
  return starting(file);
}
