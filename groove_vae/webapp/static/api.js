// The API reference, drawn from the server's own OpenAPI schema: no script or style from elsewhere.

const routes = document.getElementById("routes");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs).forEach(([key, value]) => node.setAttribute(key, value));
  children.flat().forEach((child) => node.append(child));
  return node;
}

function resolve(schema, spec) {
  if (schema && schema.$ref) return resolve(spec.components.schemas[schema.$ref.split("/").pop()], spec);
  return schema || {};
}

function typeOf(schema, spec) {
  schema = resolve(schema, spec);
  if (schema.anyOf) return schema.anyOf.map((s) => typeOf(s, spec)).join(" | ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.type === "array") return `${typeOf(schema.items, spec)}[]`;
  return schema.title && schema.properties ? schema.title : schema.type || "object";
}

function limits(schema) {
  const parts = [];
  if ("minimum" in schema) parts.push(`≥ ${schema.minimum}`);
  if ("exclusiveMinimum" in schema) parts.push(`> ${schema.exclusiveMinimum}`);
  if ("maximum" in schema) parts.push(`≤ ${schema.maximum}`);
  if ("exclusiveMaximum" in schema) parts.push(`< ${schema.exclusiveMaximum}`);
  if ("maxItems" in schema) parts.push(`at most ${schema.maxItems} items`);
  return parts.join(", ");
}

function fields(schema, spec, seen = new Set()) {
  schema = resolve(schema, spec);
  const rows = Object.entries(schema.properties || {}).map(([name, property]) => {
    const resolved = resolve(property, spec);
    return el("tr", {}, el("td", {}, el("code", {}, name)), el("td", {}, typeOf(property, spec)),
      el("td", {}, (schema.required || []).includes(name) ? "required" :
        "default" in resolved ? `default ${JSON.stringify(resolved.default)}` : ""),
      el("td", {}, [limits(resolved), resolved.description || ""].filter(Boolean).join("; ")));
  });
  const table = el("table", { class: "fields" },
    el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, ""), el("th", {}, "")), rows);
  const nested = Object.values(schema.properties || {})
    .map((p) => resolve(p.type === "array" ? p.items : p, spec))
    .filter((s) => s.properties && !seen.has(s.title) && seen.add(s.title))
    .map((s) => el("div", { class: "nested" }, el("h4", {}, s.title), fields(s, spec, seen)));
  return el("div", {}, table, nested);
}

function route(path, method, operation, spec) {
  const section = el("section", { class: "route" },
    el("h3", {}, el("code", {}, `${method.toUpperCase()} ${path}`), " ", operation.summary || ""));
  if (operation.description) section.append(el("p", {}, operation.description));
  const body = operation.requestBody && operation.requestBody.content;
  if (body) {
    const [type, content] = Object.entries(body)[0];
    section.append(el("p", { class: "muted" }, `body: ${type}`), fields(content.schema, spec));
  }
  return section;
}

fetch("/api/openapi.json").then((response) => response.json()).then((spec) => {
  routes.replaceChildren(...Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => route(path, method, operation, spec))));
}).catch((error) => routes.replaceChildren(el("p", { class: "error" }, `Could not load the schema: ${error}`)));
