// A small renderer for the subset of Helm's Go templates that helm/classops/ uses, so the
// chart can be rendered and tested where no helm binary exists. No npm package renders
// Helm's templates faithfully (sprig functions, include, .Files), so the chart keeps to
// this subset and anything outside it throws instead of rendering something else:
//   actions   {{ pipeline }}, {{- trim -}}, {{/* comments */}}, if / else if / else / end,
//             range (over lists and maps, with $v := or $k, $v :=), with, define / include
//   operands  .Values.a.b, $.Release.Name, $var, "strings", numbers, true/false/nil, (pipelines)
//   functions quote, toYaml, toJson, indent, nindent, default, required, eq, ne, not, and,
//             or, empty, include, printf (%s %d %v only), trimSuffix, replace, regexReplaceAll
//             (no $ in the replacement), sha256sum; .Files.Get "path"
// Semantics follow text/template and Helm: a missing map key is nil and prints as "", a
// field of nil is an error, empty values (false, 0, "", [], {}, nil) are false, toYaml sorts
// keys and drops the final newline, documents come out in Helm's install order by kind.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';

// ---- lexing: text and actions, with Go's {{- and -}} trimming -------------------------------

function lex(source, file) {
  const tokens = [];
  const re = /\{\{(-\s)?([\s\S]*?)(\s-)?\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    let text = source.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] !== undefined) text = text.replace(/\s+$/, '');
    if (text !== '') tokens.push({ kind: 'text', text });
    const body = m[2].trim();
    if (!/^\/\*[\s\S]*\*\/$/.test(body)) tokens.push({ kind: 'action', body, file, at: m.index });
    trimNext = m[3] !== undefined;
    last = re.lastIndex;
  }
  let rest = source.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, '');
  if (rest !== '') tokens.push({ kind: 'text', text: rest });
  return tokens;
}

// ---- expressions ------------------------------------------------------------------------------

function tokenizeExpr(body, where) {
  const out = [];
  const re =
    /\s*(?:("(?:[^"\\]|\\.)*")|(`[^`]*`)|(-?\d+(?:\.\d+)?)|(\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|((?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)|([A-Za-z_][A-Za-z0-9_]*)|(:=|=|\||\(|\)|,))/y;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (m === null) {
      if (/^\s*$/.test(body.slice(pos))) break;
      throw new Error(`${where}: cannot read "${body.slice(pos)}"`);
    }
    pos = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'lit', v: JSON.parse(m[1]) });
    else if (m[2] !== undefined) out.push({ t: 'lit', v: m[2].slice(1, -1) });
    else if (m[3] !== undefined) out.push({ t: 'lit', v: Number(m[3]) });
    else if (m[4] !== undefined) {
      const [name, ...path] = m[4].split('.');
      out.push({ t: 'var', name, path });
    } else if (m[5] !== undefined) out.push({ t: 'field', path: m[5] === '.' ? [] : m[5].slice(1).split('.') });
    else if (m[6] !== undefined) {
      const word = m[6];
      if (word === 'true' || word === 'false') out.push({ t: 'lit', v: word === 'true' });
      else if (word === 'nil') out.push({ t: 'lit', v: null });
      else out.push({ t: 'ident', name: word });
    } else out.push({ t: m[7] });
  }
  return out;
}

/** pipeline := [$a[, $b] :=] command (| command)* ; command := operand+ */
function parsePipeline(tokens, where) {
  let i = 0;
  const decl = [];
  let reassign = false;
  const assign = tokens.findIndex((t) => t.t === ':=' || t.t === '=');
  if (assign !== -1 && !tokens.slice(0, assign).some((t) => t.t === '(')) {
    for (const t of tokens.slice(0, assign)) if (t.t === 'var') decl.push(t.name);
    reassign = tokens[assign].t === '=';
    i = assign + 1;
  }
  const pipeline = (stop) => {
    const commands = [];
    let command = [];
    while (i < tokens.length && tokens[i].t !== stop) {
      const t = tokens[i++];
      if (t.t === '|') {
        commands.push(command);
        command = [];
      } else if (t.t === '(') {
        command.push({ t: 'pipe', commands: pipeline(')') });
        i++;
      } else command.push(t);
    }
    commands.push(command);
    if (commands.some((c) => c.length === 0)) throw new Error(`${where}: empty command in pipeline`);
    return commands;
  };
  return { decl, reassign, commands: pipeline(undefined) };
}

// ---- parsing into a tree ----------------------------------------------------------------------

function parse(tokens, defines) {
  let i = 0;
  const where = (t) => `${t.file}@${t.at}`;
  const block = (ends) => {
    const nodes = [];
    while (i < tokens.length) {
      const t = tokens[i];
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.text });
        i++;
        continue;
      }
      const [word] = t.body.split(/\s+/, 1);
      if (ends.includes(word)) return { nodes, end: t };
      i++;
      const rest = t.body.slice(word.length).trim();
      if (word === 'if' || word === 'with') {
        const branches = [{ pipe: parsePipeline(tokenizeExpr(rest, where(t)), where(t)) }];
        let otherwise = null;
        for (;;) {
          const { nodes: body, end } = block(['else', 'end']);
          branches[branches.length - 1].body = body;
          if (end === undefined) throw new Error(`${where(t)}: ${word} without end`);
          i++;
          if (end.body === 'end') break;
          const elseRest = end.body.slice(4).trim();
          if (elseRest.startsWith('if ') && word === 'if') {
            branches.push({ pipe: parsePipeline(tokenizeExpr(elseRest.slice(3), where(end)), where(end)) });
          } else {
            const { nodes: elseBody, end: last } = block(['end']);
            if (last === undefined) throw new Error(`${where(t)}: else without end`);
            i++;
            otherwise = elseBody;
            break;
          }
        }
        nodes.push({ kind: word, branches, otherwise });
      } else if (word === 'range') {
        const pipe = parsePipeline(tokenizeExpr(rest, where(t)), where(t));
        const { nodes: body, end } = block(['else', 'end']);
        if (end === undefined) throw new Error(`${where(t)}: range without end`);
        i++;
        let otherwise = null;
        if (end.body === 'else') {
          otherwise = block(['end']).nodes;
          i++;
        }
        nodes.push({ kind: 'range', pipe, body, otherwise });
      } else if (word === 'define') {
        const name = JSON.parse(rest);
        const { nodes: body, end } = block(['end']);
        if (end === undefined) throw new Error(`${where(t)}: define without end`);
        i++;
        defines.set(name, body);
      } else if (word === 'else' || word === 'end') {
        throw new Error(`${where(t)}: unexpected ${word}`);
      } else if (/^(template|block|break|continue)$/.test(word)) {
        throw new Error(`${where(t)}: "${word}" is outside the subset this renderer supports`);
      } else {
        nodes.push({ kind: 'print', pipe: parsePipeline(tokenizeExpr(t.body, where(t)), where(t)), where: where(t) });
      }
    }
    return { nodes, end: undefined };
  };
  return block([]).nodes;
}

// ---- evaluation ------------------------------------------------------------------------------

const isMap = (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v !== 'function';

export function truthy(v) {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

/** How text/template prints a value (nil prints nothing, as Helm renders it). */
function show(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`printing a ${Array.isArray(v) ? 'list' : 'map'} directly: use toYaml`);
}

const indentText = (n, s) => ' '.repeat(n) + show(s).replaceAll('\n', `\n${' '.repeat(n)}`);

function makeFunctions(renderDefine) {
  return {
    quote: (...args) => args.map((a) => (a === null || a === undefined ? '""' : JSON.stringify(show(a)))).join(' '),
    toYaml: (v) => stringify(sortKeys(v), { lineWidth: 0 }).replace(/\n$/, ''),
    toJson: (v) => JSON.stringify(sortKeys(v)),
    indent: indentText,
    nindent: (n, s) => `\n${indentText(n, s)}`,
    default: (d, v) => (truthy(v) ? v : d),
    required: (message, v) => {
      if (v === null || v === undefined || v === '') throw new Error(message);
      return v;
    },
    empty: (v) => !truthy(v),
    eq: (a, ...bs) => bs.some((b) => a === b),
    ne: (a, b) => a !== b,
    not: (v) => !truthy(v),
    and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
    or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
    include: (name, data) => renderDefine(name, data),
    printf: (format, ...args) => {
      let k = 0;
      return format.replace(/%[sdv%]/g, (spec) => (spec === '%%' ? '%' : show(args[k++])));
    },
    sha256sum: (s) => createHash('sha256').update(show(s)).digest('hex'),
    trimSuffix: (suffix, s) => (show(s).endsWith(suffix) ? show(s).slice(0, -suffix.length) : show(s)),
    replace: (old, replacement, s) => show(s).split(old).join(replacement),
    // Go's replacement expands ${1}; the chart's replacements name no group, and one that did would throw.
    regexReplaceAll: (regex, s, replacement) => {
      if (replacement.includes('$')) throw new Error('regexReplaceAll: a replacement with $ is outside the subset');
      return show(s).replace(new RegExp(regex, 'g'), replacement);
    },
  };
}

function field(value, path, where) {
  let v = value;
  for (const key of path) {
    if (v === null || v === undefined) throw new Error(`${where}: nil pointer evaluating .${path.join('.')}`);
    if (!isMap(v)) throw new Error(`${where}: cannot read .${key} of a ${typeof v}`);
    v = Object.hasOwn(v, key) ? v[key] : undefined;
  }
  return v;
}

function evalPipe(pipe, scope, fns, where) {
  let result;
  let first = true;
  for (const command of pipe.commands) {
    const operand = (t) => {
      if (t.t === 'lit') return t.v;
      if (t.t === 'field') return field(scope.dot, t.path, where);
      if (t.t === 'var') {
        if (!(t.name in scope.vars)) throw new Error(`${where}: undefined variable ${t.name}`);
        return field(scope.vars[t.name], t.path, where);
      }
      if (t.t === 'pipe') return evalPipe({ commands: t.commands }, scope, fns, where);
      if (t.t === 'ident') {
        if (!(t.name in fns)) throw new Error(`${where}: function "${t.name}" not defined`);
        return fns[t.name]();
      }
      throw new Error(`${where}: unexpected ${t.t}`);
    };
    const [head, ...rest] = command;
    const args = rest.map(operand);
    if (!first) args.push(result);
    first = false;
    if (head.t === 'ident') {
      const fn = fns[head.name];
      if (fn === undefined) throw new Error(`${where}: function "${head.name}" not defined`);
      result = fn(...args);
    } else {
      const value = operand(head);
      if (typeof value === 'function') result = value(...args);
      else if (args.length > 0) throw new Error(`${where}: ${head.t} is not a function`);
      else result = value;
    }
  }
  return result;
}

/** Variables live in a chain of scopes (one per block), as in text/template: `=` sets where declared. */
function assignVariable(vars, name, value, where) {
  for (let owner = vars; owner !== null; owner = Object.getPrototypeOf(owner)) {
    if (Object.hasOwn(owner, name)) {
      owner[name] = value;
      return;
    }
  }
  throw new Error(`${where}: undefined variable ${name}`);
}

function run(nodes, scope, fns) {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'print') {
      const value = evalPipe(node.pipe, scope, fns, node.where);
      if (node.pipe.decl.length === 0) out += show(value);
      else if (node.pipe.reassign) assignVariable(scope.vars, node.pipe.decl[0], value, node.where);
      else scope.vars[node.pipe.decl[0]] = value;
    } else if (node.kind === 'if' || node.kind === 'with') {
      const inner = { dot: scope.dot, vars: Object.create(scope.vars) };
      const branch = node.branches.find((b) => {
        const value = evalPipe(b.pipe, inner, fns, 'if');
        if (b.pipe.decl.length > 0) inner.vars[b.pipe.decl[0]] = value;
        if (node.kind === 'with' && truthy(value)) inner.dot = value;
        return truthy(value);
      });
      if (branch !== undefined) out += run(branch.body, inner, fns);
      else if (node.otherwise !== null)
        out += run(node.otherwise, { dot: scope.dot, vars: Object.create(scope.vars) }, fns);
    } else if (node.kind === 'range') {
      const value = evalPipe(node.pipe, scope, fns, 'range');
      const entries = Array.isArray(value)
        ? value.map((v, k) => [k, v])
        : isMap(value)
          ? Object.keys(value)
              .sort()
              .map((k) => [k, value[k]])
          : value === null || value === undefined
            ? []
            : (() => {
                throw new Error(`range over ${typeof value}`);
              })();
      if (entries.length === 0 && node.otherwise !== null)
        out += run(node.otherwise, { dot: scope.dot, vars: Object.create(scope.vars) }, fns);
      for (const [key, item] of entries) {
        const vars = Object.create(scope.vars);
        const decl = node.pipe.decl;
        if (decl.length === 1) vars[decl[0]] = item;
        if (decl.length === 2) [vars[decl[0]], vars[decl[1]]] = [key, item];
        out += run(node.body, { dot: item, vars }, fns);
      }
    }
  }
  return out;
}

// ---- charts ----------------------------------------------------------------------------------

/** Helm's install order (pkg/releaseutil/kind_sorter.go); other kinds come after, by file name. */
const INSTALL_ORDER = [
  'PriorityClass',
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
];

function deepMerge(base, over) {
  if (!isMap(base) || !isMap(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(out[k]) && isMap(v) ? deepMerge(out[k], v) : v;
  return out;
}

/**
 * Renders a chart folder as `helm template` would: values.yaml merged with `values`, each
 * template rendered, documents split, empty ones dropped, ordered by kind. `files` stands
 * in for chart files (by path inside the chart) not yet written. Returns [{ source, text, object }].
 */
export function renderChart(
  chartDir,
  { values = {}, release = { name: 'classops', namespace: 'classops' }, files = {} } = {},
) {
  const read = (path) => files[path] ?? readFileSync(join(chartDir, path), 'utf8');
  const chart = parseYaml(read('Chart.yaml'));
  const merged = deepMerge(parseYaml(read('values.yaml')) ?? {}, values);
  const root = {
    Values: merged,
    Release: { Name: release.name, Namespace: release.namespace, Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    Files: { Get: (path) => read(path) },
  };
  const defines = new Map();
  const dir = join(chartDir, 'templates');
  const templates = readdirSync(dir)
    .filter((f) => /\.(yaml|yml|tpl)$/.test(f))
    .sort();
  const trees = templates.map((f) => ({ file: f, nodes: parse(lex(readFileSync(join(dir, f), 'utf8'), f), defines) }));
  const fns = makeFunctions((name, data) => {
    const body = defines.get(name);
    if (body === undefined) throw new Error(`no template "${name}"`);
    return run(body, { dot: data, vars: Object.assign(Object.create(null), { $: data }) }, fns);
  });
  const docs = [];
  for (const { file, nodes } of trees) {
    if (file.startsWith('_')) continue;
    const text = run(nodes, { dot: root, vars: Object.assign(Object.create(null), { $: root }) }, fns);
    for (const part of text.split(/^---\s*$/m)) {
      const parsed = parseAllDocuments(part);
      if (Array.isArray(parsed) && parsed.length === 0) continue;
      if (!Array.isArray(parsed) || parsed.length !== 1) throw new Error(`${file}: expected one YAML document per ---`);
      const [doc] = parsed;
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}\n${part}`);
      const object = doc.toJS();
      if (object === null || object === undefined) continue;
      docs.push({ source: `${chart.name}/templates/${file}`, text: part.replace(/^\n+/, '').trimEnd(), object });
    }
  }
  const rank = (kind) => {
    const i = INSTALL_ORDER.indexOf(kind);
    return i === -1 ? INSTALL_ORDER.length : i;
  };
  return docs
    .map((d, i) => ({ d, i }))
    .sort((a, b) => rank(a.d.object.kind) - rank(b.d.object.kind) || a.i - b.i)
    .map(({ d }) => d);
}

/** The rendered documents as one multi-document YAML stream, like `helm template`. */
export function toManifest(docs) {
  return docs.map((d) => `---\n# Source: ${d.source}\n${d.text}\n`).join('');
}
