// Tandem's web UI: server-rendered pages enhanced with htmx, and network pictures drawn with
// Cytoscape. No inline scripts anywhere (the CSP forbids them): behaviour hangs off data-*
// attributes, and graph data comes as JSON from the API.
import htmx from "htmx.org";
import cytoscape from "cytoscape";
import fcose from "cytoscape-fcose";

cytoscape.use(fcose);
window.htmx = htmx;

// htmx must send the CSRF token the server put in the page on every state-changing request.
document.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
});

const ROLE_COLOURS = {
  organiser: "#b42318",
  recruiter: "#c4320a",
  transporter: "#175cd3",
  boat_operator: "#0e7090",
  safe_house_keeper: "#6941c6",
  enforcer: "#9f1239",
  document_forger: "#854d0e",
  money_handler: "#067647",
  corrupt_official: "#3e4784",
  transport_company: "#1d4ed8",
  private_enabler: "#4b5563",
  social_enabler: "#6b7280",
};

function nodeColour(data) {
  if (data.sanctioned) return "#d92d20";
  return ROLE_COLOURS[data.role] || "#475467";
}

async function drawNetwork(container) {
  const url = container.dataset.graphUrl;
  const status = container.querySelector("[data-graph-status]");
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const graph = await response.json();
    const elements = [
      ...graph.nodes.map((n) => ({ data: { ...n, colour: nodeColour(n) } })),
      ...graph.edges.map((e) => ({ data: e })),
    ];
    const cy = cytoscape({
      container: container.querySelector("[data-graph-canvas]"),
      elements,
      wheelSensitivity: 0.2,
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            "background-color": "data(colour)",
            color: "#101828",
            "font-size": 10,
            "text-wrap": "ellipsis",
            "text-max-width": 120,
            width: 18,
            height: 18,
          },
        },
        { selector: "node[?focus]", style: { width: 30, height: 30, "border-width": 3, "border-color": "#101828" } },
        { selector: "node[?sanctioned]", style: { shape: "diamond" } },
        {
          selector: "edge",
          style: {
            width: 1.5,
            "line-color": "#98a2b3",
            "target-arrow-color": "#98a2b3",
            "curve-style": "bezier",
            label: "data(label)",
            "font-size": 8,
            color: "#475467",
          },
        },
        { selector: "edge[?directed]", style: { "target-arrow-shape": "triangle" } },
      ],
      layout: { name: elements.length > 2 ? "fcose" : "grid", animate: false, randomize: false },
    });
    cy.on("tap", "node", (event) => {
      const href = event.target.data("href");
      if (href) window.location.assign(href);
    });
    container.dataset.graphReady = "true";
    container.dataset.graphNodes = String(graph.nodes.length);
    if (status) status.textContent = `${graph.nodes.length} entities, ${graph.edges.length} links. Select a node to open it.`;
  } catch (error) {
    container.dataset.graphReady = "error";
    if (status) status.textContent = `The network could not be drawn (${error.message}).`;
  }
}

function init(root) {
  root.querySelectorAll("[data-graph-url]").forEach((el) => {
    if (!el.dataset.graphReady) drawNetwork(el);
  });
  root.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("submit", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });
}

document.addEventListener("DOMContentLoaded", () => init(document));
document.addEventListener("htmx:load", (event) => init(event.detail.elt));
