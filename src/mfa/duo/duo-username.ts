// Which name Gatehouse sends to Duo. Computed once per challenge and stored with it, so the code exchange
// uses exactly the string the prompt was opened with (the SDK compares them case-sensitively).
import type { User } from '../../users/users.ts';

export type UsernameSource = 'username' | 'lowercase' | 'email' | 'alias';

export function duoUsername(user: User, source: UsernameSource): string {
  switch (source) {
    case 'username': return user.username;
    case 'lowercase': return user.username.toLowerCase();
    case 'email': return user.email ?? user.username.toLowerCase();
    case 'alias': return user.duoAlias ?? user.username.toLowerCase();
  }
}
