// Per language: how its contexts are found, which of them no quoting can make safe, and how a
// value is written in each of the others.
import type { Param, StepLanguage } from '../model/types.js';
import { shellContexts } from './lex-shell.js';
import { sqlContexts } from './lex-sql.js';
import { pythonContexts } from './lex-python.js';
import { jsContexts } from './lex-js.js';
import {
  commentText,
  envName,
  jsEscape,
  numberLiteral,
  pythonBytesEscape,
  pythonEscape,
  type UnsafeContext,
} from './render.js';

export interface LanguageRules {
  contexts(code: string, starts: readonly number[]): string[];
  unsafe: Record<string, UnsafeContext>;
  /** The text for a safe context. */
  render(context: string, param: Param, value: string): string;
}

const shell: LanguageRules = {
  contexts: shellContexts,
  unsafe: {
    arith: {
      what: 'shell arithmetic (bash evaluates `a[$(command)]` inside $(( )), (( )), let, [[ -eq ]] and ${var[…]}, running the command)',
      fix: 'declare it `type: integer`, or compare it as text outside arithmetic',
      code: true,
    },
    'heredoc-literal': {
      what: "a quoted here-document (<<'EOF' takes its text literally, so no quoting can apply)",
      fix: 'use an unquoted delimiter (<<EOF), where the value arrives through the environment, or read $EXEC_DOC_PARAM_<name> in the program',
      code: false,
    },
  },
  render(context, param) {
    const ref = `\${${envName(param.name)}}`;
    switch (context) {
      case 'word':
        return `"${ref}"`;
      case 'single':
        return `'"${ref}"'`;
      case 'ansi-c':
        return `'"${ref}"$'`;
      default:
        // Inside double quotes, an unquoted here-document, a comment: expanded once, never re-read.
        return ref;
    }
  },
};

const sql: LanguageRules = {
  contexts: sqlContexts,
  unsafe: {
    dollar: {
      what: 'a dollar-quoted body (PL/pgSQL code: no quoting from outside applies)',
      fix: "read it inside the body with current_setting('exec_doc.<name>'), which every SQL block sets, or declare a narrower type (identifier, integer, enum)",
      code: true,
    },
    'unicode-string': {
      what: "a U&'…' string (its escape character can be redefined)",
      fix: "use a plain '…' string",
      code: false,
    },
  },
  render(context, param, value) {
    switch (context) {
      case 'code':
        if (param.type === 'integer' || param.type === 'number') return numberLiteral(value);
        if (param.type === 'boolean' || param.type === 'identifier') return value;
        return `'${value.replace(/'/g, "''")}'`;
      case 'string':
        // Every SQL block runs with standard_conforming_strings on: backslashes are plain text.
        return value.replace(/'/g, "''");
      case 'escape-string':
        return value.replace(/\\/g, '\\\\').replace(/'/g, "''");
      case 'identifier':
        return value.replace(/"/g, '""');
      default:
        return commentText(value);
    }
  },
};

const python: LanguageRules = {
  contexts: pythonContexts,
  unsafe: {
    raw: {
      what: 'a raw string (r"…": escapes are not processed)',
      fix: 'use a plain string, or read os.environ["EXEC_DOC_PARAM_<name>"]',
      code: false,
    },
    fexpr: {
      what: 'the expression part of an f-string',
      fix: 'put the placeholder in the text part of the f-string, or assign it to a variable first',
      code: true,
    },
  },
  render(context, param, value) {
    switch (context) {
      case 'code':
        if (param.type === 'integer' || param.type === 'number') return numberLiteral(value);
        if (param.type === 'boolean') return value === 'true' ? 'True' : 'False';
        return `"${pythonEscape(value)}"`;
      case 'bytes':
        return pythonBytesEscape(value);
      case 'comment':
        return commentText(value);
      default:
        // A string or the text part of an f-string: \x7b is a literal brace there too.
        return pythonEscape(value);
    }
  },
};

const js: LanguageRules = {
  contexts: jsContexts,
  unsafe: {},
  render(context, param, value) {
    if (context !== 'code') return jsEscape(value);
    if (param.type === 'integer' || param.type === 'number') return numberLiteral(value);
    if (param.type === 'boolean') return value;
    return `"${jsEscape(value)}"`;
  },
};

// A checks block is YAML: the placeholder becomes a ${VARIABLE} reference, resolved after the
// YAML is parsed, into the scalar it stands in (see ../checks/block.ts).
const checks: LanguageRules = {
  contexts: (_code, starts) => starts.map(() => 'scalar'),
  unsafe: {},
  render: (_context, param) => `\${${envName(param.name)}}`,
};

// Any other language (Ruby, Perl, …): exec-doc cannot tell its strings from its code, so only a
// value of a narrow type (integer, identifier, enum) is written in; others are refused.
const program: LanguageRules = {
  contexts: (_code, starts) => starts.map(() => 'unlexed'),
  unsafe: {
    unlexed: {
      what: 'a block of a language exec-doc does not read (it cannot tell a string from code there)',
      fix: 'declare it a narrower type (integer, identifier, enum), or read $EXEC_DOC_PARAM_<name> in the program',
      code: true,
    },
  },
  render: (_context, _param, value) => value,
};

export function rulesFor(lang: StepLanguage): LanguageRules {
  switch (lang) {
    case 'sh':
    case 'bash':
      return shell;
    case 'sql':
      return sql;
    case 'python':
      return python;
    case 'js':
    case 'ts':
      return js;
    case 'checks':
      return checks;
    case 'program':
      return program;
  }
}
