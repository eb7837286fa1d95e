// What the control room's screen reader says (an aria-live region): each change of state, in words.
export class Announcer {
  #words = $state.raw('');

  get words(): string {
    return this.#words;
  }

  say(words: string): void {
    this.#words = words;
  }
}
