import { AuthScreen } from '../auth/AuthScreen.tsx';
import { ChatScreen } from './ChatScreen.tsx';
import { useSession } from './session.ts';

export function App() {
  const session = useSession();
  return session ? <ChatScreen key={session.username} username={session.username} /> : <AuthScreen />;
}
