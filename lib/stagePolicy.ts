/**
 * Whether a stage keeps its lake and state when its stack is deleted, unless the stack's `retainData`
 * prop (context `retainData=true|false`) says otherwise: `prod` and every stage that starts with `prod`
 * (`prod-eu`, `production`) keep them; every other stage (`dev`, `qa`, a branch name) is fully removable.
 *
 * @example
 * ```ts
 * retainsDataByDefault('prod-eu'); // true
 * retainsDataByDefault('dev'); // false
 * ```
 */
export function retainsDataByDefault(stage: string): boolean {
  return stage.startsWith('prod');
}
