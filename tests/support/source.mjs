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
