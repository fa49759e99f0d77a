"""Plotly figures of a territory report: the map (plain lon/lat axes, no
tiles, so it draws with no network), the Sankey of outgoing flows by
resource family, and savings and CO2 by synergy type.

Every piece of user text put in a figure is HTML-escaped first: plotly.js
reads a small HTML subset in labels and shows ``&lt;`` as ``<``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from html import escape

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from symbiose.explain import format as fr
from symbiose.report.data import TYPE_FR, Report, family

COLORS = {"substitution": "#1b7f5f", "mutualisation": "#2f6db3", "company": "#d9822b", "idle": "#9aa5b1"}
SEPARATORS = ", "  # decimal comma, space between thousands (plotly's ``layout.separators``)
SANKEY_UNITS = {u: fr.UNIT_YEARLY_FR[u] for u in ("t", "MWh", "m3")}
NO_SYNERGY = "Sans synergie retenue"
POOLED = "Collecte mutualisée"
_DESTINATION_COLORS = {  # Sankey destination -> (node colour, link colour); None: a family of needs
    NO_SYNERGY: ("#cbd2d9", "rgba(203,210,217,0.55)"),
    POOLED: (COLORS["mutualisation"], "rgba(47,109,179,0.35)"),
    None: (COLORS["substitution"], "rgba(27,127,95,0.35)"),
}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif", "size": 13, "color": "#1f2933"}


def _layout(fig: go.Figure, **extra) -> go.Figure:
    fig.update_layout(template="plotly_white", separators=SEPARATORS, font=FONT,
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, **extra)
    return fig


def _company_hover(report: Report) -> dict[str, str]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in report.flows:
        counts[f.company_id][0 if f.direction == "out" else 1] += 1
    out = {}
    for c in report.companies:
        n_out, n_in = counts[c.id]
        place = " ".join(x for x in (c.postcode, c.city) if x)
        out[c.id] = (f"<b>{escape(c.name)}</b><br>{escape(place)}<br>"
                     f"{n_out} flux sortant(s), {n_in} flux entrant(s)")
    return out


def map_figure(report: Report) -> go.Figure:
    """Companies as points, substitutions as straight links, collection rounds as polylines."""
    located = {c.id: c for c in report.companies if c.lat is not None and c.lon is not None}
    fig = go.Figure()
    if not located:
        fig.add_annotation(text="Aucune entreprise géolocalisée", showarrow=False)
        return _layout(fig, height=300)
    involved = {cid for s in report.plan for cid in s.company_ids}
    hover = _company_hover(report)

    sub_x: list[float | None] = []
    sub_y: list[float | None] = []
    mid_x, mid_y, mid_text = [], [], []
    for s in report.plan:
        if s.payload.get("type") != "substitution":
            continue
        for a in s.suppliers:
            for b in s.receivers:
                if a.id in located and b.id in located:
                    ca, cb = located[a.id], located[b.id]
                    sub_x += [ca.lon, cb.lon, None]
                    sub_y += [ca.lat, cb.lat, None]
                    mid_x.append((ca.lon + cb.lon) / 2)
                    mid_y.append((ca.lat + cb.lat) / 2)
                    mid_text.append(_synergy_hover(s))
    round_x: list[float | None] = []
    round_y: list[float | None] = []
    for s in report.plan:
        route = s.payload.get("route") or ()
        if s.payload.get("type") != "mutualisation" or len(route) < 2:
            continue
        round_x += [float(stop["lon"]) for stop in route] + [None]
        round_y += [float(stop["lat"]) for stop in route] + [None]
        first = route[0]
        mid_x.append(float(first["lon"]))
        mid_y.append(float(first["lat"]))
        mid_text.append(_synergy_hover(s))

    _background(fig, [(c.lat, c.lon) for c in located.values()])
    if sub_x:
        fig.add_trace(go.Scatter(x=sub_x, y=sub_y, mode="lines", name="Substitution",
                                 line={"color": COLORS["substitution"], "width": 2.5}, hoverinfo="skip"))
    if round_x:
        fig.add_trace(go.Scatter(x=round_x, y=round_y, mode="lines", name="Tournée mutualisée",
                                 line={"color": COLORS["mutualisation"], "width": 2, "dash": "dot"}, hoverinfo="skip"))
    if mid_x:
        fig.add_trace(go.Scatter(x=mid_x, y=mid_y, mode="markers", name="Synergie (détail au survol)",
                                 marker={"symbol": "diamond", "size": 8, "color": "#52606d"},
                                 text=mid_text, hovertemplate="%{text}<extra></extra>"))
    for flag, label, color in ((True, "Entreprise avec synergie", COLORS["company"]), (False, "Entreprise sans synergie", COLORS["idle"])):
        ids = [cid for cid in located if (cid in involved) == flag]
        if not ids:
            continue
        fig.add_trace(go.Scatter(
            x=[located[i].lon for i in ids], y=[located[i].lat for i in ids], mode="markers", name=label,
            marker={"size": 11 if flag else 8, "color": color, "line": {"width": 1, "color": "white"}},
            text=[hover[i] for i in ids], hovertemplate="%{text}<extra></extra>"))

    _top_labels(fig, report, located)
    lats = [c.lat for c in located.values()]
    lons = [c.lon for c in located.values()]
    pad_lat = max(0.02, 0.08 * (max(lats) - min(lats)))
    pad_lon = max(0.02, 0.08 * (max(lons) - min(lons)))
    fig.update_xaxes(range=[min(lons) - pad_lon, max(lons) + pad_lon])
    fig.update_yaxes(range=[min(lats) - pad_lat, max(lats) + pad_lat])
    lat0 = sum(c.lat for c in located.values()) / len(located)
    fig.update_xaxes(showticklabels=False, title=None, showgrid=True, zeroline=False)
    fig.update_yaxes(showticklabels=False, title=None, showgrid=True, zeroline=False,
                     scaleanchor="x", scaleratio=1 / math.cos(math.radians(lat0)))
    return _layout(fig, height=560, legend={"orientation": "h", "y": -0.02, "yanchor": "top"},
                   hovermode="closest", dragmode="pan")


TOP_LABELS = 5  # synergies named on the printed map


def _background(fig: go.Figure, points: list[tuple[float, float]]) -> None:
    """The same offline background as the web map: départements' outlines and main towns, named."""
    from symbiose.report.basemap import outlines_in, towns_near

    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in outlines_in(points):
        xs += [p[0] for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="Départements", hoverinfo="skip", showlegend=False,
                                 line={"color": "#b8c2cc", "width": 1}, fill="toself", fillcolor="rgba(248,250,252,1)"))
    towns = towns_near(points, limit=15)
    if towns:
        fig.add_trace(go.Scatter(
            x=[t["lon"] for t in towns], y=[t["lat"] for t in towns], mode="markers+text", name="Villes",
            text=[t["name"] for t in towns], textposition="top center", hoverinfo="skip", showlegend=False,
            marker={"size": 4, "color": "#52606d"}, textfont={"size": 10, "color": "#52606d"}))


def _top_labels(fig: go.Figure, report: Report, located: dict) -> None:
    """The rank and resource of the plan's best synergies, written at their place (the map reads on paper)."""
    for s in report.plan[:TOP_LABELS]:
        ids = [c for c in s.company_ids if c in located]
        if not ids:
            continue
        x = sum(located[c].lon for c in ids) / len(ids)
        y = sum(located[c].lat for c in ids) / len(ids)
        fig.add_annotation(x=x, y=y, text=f"<b>{int(s.payload.get('rank') or 0)}</b> {escape(s.resource_label)}",
                           showarrow=True, arrowhead=0, ax=0, ay=-28, bgcolor="rgba(255,255,255,0.9)",
                           bordercolor="#1f2933", borderwidth=1, font={"size": 11, "color": "#1f2933"})


def _synergy_hover(s) -> str:
    p = s.payload
    return (f"<b>{escape(str(p.get('id', '')))} · {escape(s.type_label)}</b><br>{escape(s.resource_label)}<br>"
            f"{fr.quantity(float(p.get('quantity') or 0), str(p.get('unit', 't')).split('/')[0])}, "
            f"{fr.km(float(p.get('distance_km') or 0))}<br>"
            f"{fr.euros(float(p.get('savings_eur') or 0))}/an · {fr.tco2(float(p.get('co2_avoided_t') or 0))}/an")


def sankey_flows(report: Report) -> dict[str, dict[tuple[str, str], float]]:
    """Yearly outgoing quantities by unit: (source family label, destination label) → quantity."""
    flows = {f.id: f for f in report.flows}
    out_total: dict[tuple[str, str], float] = defaultdict(float)  # (unit, family label) -> quantity
    for f in report.flows:
        if f.direction == "out" and f.unit in SANKEY_UNITS:
            out_total[(f.unit, family(f.resource)[1])] += f.quantity
    links: dict[str, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
    used: dict[tuple[str, str], float] = defaultdict(float)
    for s in report.plan:
        p = s.payload
        unit = str(p.get("unit", "")).split("/")[0]
        if unit not in SANKEY_UNITS or not p.get("suppliers"):
            continue
        src_flow = flows.get(str(p["suppliers"][0].get("flow_id")))
        src = family(src_flow.resource if src_flow else str(p.get("resource", "")))[1]
        if p.get("type") == "substitution":
            dst_flow = flows.get(str((p.get("receivers") or [{}])[0].get("flow_id")))
            dst = "→ " + family(dst_flow.resource if dst_flow else str(p.get("resource", "")))[1]
        else:
            dst = POOLED
        qty = float(p.get("quantity") or 0.0)
        links[unit][(src, dst)] += qty
        used[(unit, src)] += qty
    for (unit, src), total in out_total.items():
        rest = total - used.get((unit, src), 0.0)
        if rest > 1e-6 * max(total, 1.0):
            links[unit][(src, NO_SYNERGY)] += rest
    return {u: dict(v) for u, v in links.items() if v}


def sankey_figures(report: Report) -> list[tuple[str, go.Figure]]:
    """One Sankey per canonical unit: outgoing flows by family → substitution, pooling or nothing yet."""
    figures = []
    for unit, links in sorted(sankey_flows(report).items(), key=lambda kv: list(SANKEY_UNITS).index(kv[0])):
        sources = sorted({s for s, _ in links}, key=lambda s: -sum(q for (a, _), q in links.items() if a == s))
        targets = sorted({d for _, d in links}, key=lambda d: (d == NO_SYNERGY, d == POOLED, d))
        nodes = sources + targets
        index = {n: i for i, n in enumerate(sources)}
        index.update({n: len(sources) + i for i, n in enumerate(targets)})
        node_colors = ["#7b8794"] * len(sources) + [_DESTINATION_COLORS.get(t, _DESTINATION_COLORS[None])[0] for t in targets]
        link_colors = [_DESTINATION_COLORS.get(d, _DESTINATION_COLORS[None])[1] for _, d in links]
        unit_fr = SANKEY_UNITS[unit]
        fig = go.Figure(go.Sankey(
            arrangement="snap", valueformat=",.0f", valuesuffix=" " + unit_fr,
            node={"label": [escape(n) for n in nodes], "color": node_colors, "pad": 14, "thickness": 16},
            link={"source": [index[s] for s, _ in links], "target": [index[d] for _, d in links],
                  "value": [round(q, 3) for q in links.values()], "color": link_colors},
        ))
        height = max(320, 34 * max(len(sources), len(targets)))
        title = {"text": f"Flux sortants ({unit_fr}) par famille de ressources", "x": 0}
        figures.append((unit_fr, _layout(fig, height=height, title=title)))
    return figures


def type_chart(report: Report) -> go.Figure:
    """Savings (€/yr) and CO2 avoided (t/yr) of the plan's synergies, by type."""
    types = list(TYPE_FR)
    labels = [TYPE_FR[t] for t in types]
    colors = [COLORS[t] for t in types]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Économies (€/an)", "CO₂e évité (t/an)"), horizontal_spacing=0.12)
    savings = [report.by_type.get(t).savings_eur for t in types]
    co2 = [report.by_type.get(t).co2_avoided_t for t in types]
    fig.add_trace(go.Bar(x=labels, y=savings, marker_color=colors, text=[fr.euros(v) for v in savings],
                         textposition="auto", hovertemplate="%{x} : %{y:,.0f} €/an<extra></extra>", showlegend=False), 1, 1)
    fig.add_trace(go.Bar(x=labels, y=co2, marker_color=colors, text=[fr.tco2(v) for v in co2],
                         textposition="auto", hovertemplate="%{x} : %{y:,.1f} tCO₂e/an<extra></extra>", showlegend=False), 1, 2)
    fig.update_yaxes(rangemode="tozero", tickformat=",.0f")
    return _layout(fig, height=340)
