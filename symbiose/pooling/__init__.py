"""Mutualisation: pooled collection rounds, group purchases and shared services.

The package follows the work: :mod:`.members`, :mod:`.groups`,
:mod:`.valuation`, :mod:`.synergies`.

The work runs in four steps, one function each:

1. :func:`pooling_members` — per pooling family of the taxonomy, the companies
   with a poolable flow: an ``out`` flow for a *collection* family, an ``in``
   flow for a *purchase* or *service* family. Flows of different codes of one
   family pool together ("palettes EUR" with "palettes bois"); a family's
   flows are split by hazard and by food grade, which never mix. A company's
   flows of one family and class make one member (one stop of a round).
2. :func:`find_groups` — leader clustering within the family's ``radius_km``
   on a cKDTree of unit vectors: companies are taken in decreasing order of
   the quantity within reach; each one, still free, gathers the free
   companies within the radius around it, and the gathering becomes a group
   when it has at least two companies and reaches ``critical_mass``.
   Otherwise they all stay free. Each company is in at most one group per
   family and class; a company alone far away is simply in none.
3. :func:`plan_group` — money, distance and CO2 of a group. Collections are
   routed with :func:`symbiose.routing.solve_round`; groups are independent
   (:func:`plan_groups` can value them in a process pool).
4. :func:`pool_synergies` — one :class:`Synergy` per group worth doing
   (savings > 0), with its French explanation.

The matcher first asks :func:`outside_values` what each output would save in
a pooled collection (the optimiser's alternative to a substitution): the same
groups and cost model, with the rounds' km *estimated*
(:func:`symbiose.routing.estimate_round`, no solver), so that each group is
routed once per run, in :func:`pool_synergies` on what the substitutions
leave.

Cost model (figures of ``pooling.yaml``, ``parameters.yaml``):

- *individual* yearly cost of a flow: the company's own ``cost_eur_per_unit``
  when it reported one, else the family's ``individual_cost_eur_per_unit``
  (all-in: collection and treatment, or purchase price), times its quantity.
  For a collection, a company priced by the family's figure pays at least
  its own collections (``max(min_collections_per_year, ceil(q /
  vehicle_capacity))`` trips × (trip km × ``cost_per_km_eur`` +
  ``cost_per_stop_eur``)) plus the treatment (``q ×
  pooled_cost_eur_per_unit``): small producers pay for the trip, not only
  for the tonne;
- *pooled* yearly cost of a collection: ``rounds × round km ×
  cost_per_km_eur + visits × cost_per_stop_eur + quantity ×
  pooled_cost_eur_per_unit`` (treatment under a pooled contract, transport
  excluded since the round prices it), where *visits* are the calls at the
  members' doors: each member as often as its own collections need, at most
  once per round (a firm with a weekly bin is not called on by each pass of
  a daily round); of a purchase or service: ``quantity × pooled_cost_eur_per_unit``;
- rounds per year: ``max(min_collections_per_year, ceil(total /
  vehicle_capacity))``, each visit taking ``quantity / rounds``; a round
  makes several trips when a truck cannot take it all or when it has more
  than ``max_stops_per_round`` stops (``parameters.yaml``, a working day);
- the depot is the nearest collector or recycler of the data (a company with
  an ``in`` flow of the family, or NAF 38.11 / 38.12 for hazardous waste)
  within the family's one-way trip distance (``individual_trip_km / 2``, at
  least ``radius_km``) of the group's centroid. Without one, the round
  starts at the group's centroid and each trip adds an approach of
  ``individual_trip_km`` (the collector's yard to the park and back, the same
  distance a lone company's collection costs);
- km: great-circle × ``road_detour_factor``; a lone company's trip is the
  return trip to the collector of the data, else ``individual_trip_km``;
  individual km: each company's own collections × its trip;
- CO2 avoided, two parts (both in ``details``): *transport*, km saved ×
  ``truck_co2_kg_per_km`` (negative when the round drives more than the lone
  trips, e.g. big producers already served by full trucks); *treatment*, for
  a family whose pooled route goes to recovery (``recovery``, true unless
  pooling.yaml says otherwise): the pooled quantity × its resource's
  ``co2_treatment_kg``. Small lots end up in the mixed skip and its usual
  treatment (landfill, incineration); the critical mass is what makes sorting
  and recovery pay (domain notes: "masse critique à partir de laquelle le tri
  et la valorisation sont économiquement possibles");
- purchases and services are not routed: ``distance_km`` is the group's
  diameter (great-circle, the widest distance between two members) and no
  CO2 is counted.
"""

from symbiose.pooling.groups import Group, cluster, find_groups
from symbiose.pooling.members import Member, PoolClass, PooledFlow, pooling_members
from symbiose.pooling.synergies import outside_values, pool_synergies
from symbiose.pooling.valuation import Depot, GroupPlan, collectors, plan_group, plan_groups

__all__ = [
    "Depot", "Group", "GroupPlan", "Member", "PoolClass", "PooledFlow",
    "cluster", "collectors", "find_groups", "outside_values", "plan_group", "plan_groups",
    "pool_synergies", "pooling_members",
]
