/**
 * Pareto frontier of cost against skill: the points no other point beats on
 * both (cheaper or equal and at least as skilful, strictly better on one).
 * Returned sorted by cost, so drawing them in order traces the frontier.
 */
export interface CostSkillPoint {
  readonly cost: number;
  readonly skill: number;
}

export function paretoFrontier<T extends CostSkillPoint>(points: readonly T[]): T[] {
  const sorted = [...points]
    .filter((p) => Number.isFinite(p.cost) && Number.isFinite(p.skill))
    .sort((a, b) => a.cost - b.cost || b.skill - a.skill);
  const frontier: T[] = [];
  let bestSkill = Number.NEGATIVE_INFINITY;
  for (const p of sorted) {
    if (p.skill > bestSkill) {
      frontier.push(p);
      bestSkill = p.skill;
    }
  }
  return frontier;
}
