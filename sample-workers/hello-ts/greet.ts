export type Greeting = { message: string; length: number };

export function greet(greeting: string, name: string): Greeting {
  const message = `${greeting}, ${name}!`;
  return { message, length: message.length as number };
}
