; Inno Setup 6 script: a per-user installer for the PyInstaller build in dist\outpost.
;
;   powershell packaging\windows\build-installer.ps1
;   (runs: iscc /DAppVersion=0.1.0 /DAppVersionNumeric=0.1.0.0 packaging\windows\outpost.iss)
;
; build-installer.ps1 passes the versions from packaging/metadata.py (pyproject.toml); the
; names below must match build.spec and app/__init__.py (packaging/check_consistency.py checks).
; Output: dist\Outpost-<version>-windows-x64-setup.exe

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=0.1.0 /DAppVersionNumeric=0.1.0.0 (build-installer.ps1 does)
#endif
#ifndef AppVersionNumeric
  #error Pass the four-number version: /DAppVersionNumeric=0.1.0.0 (build-installer.ps1 does)
#endif
#define AppName "Outpost"
#define AppExeName "outpost.exe"
; app.outpost.Outpost: APP_ID in app/__init__.py. The running app holds a mutex of this name,
; so setup and uninstall wait while Outpost runs.
#define AppMutexName "app.outpost.Outpost"
#define DistDir "..\..\dist\outpost"

[Setup]
; Never change AppId: Windows finds the installed Outpost (for upgrades, uninstall) by it.
AppId={{ED944436-C889-4B89-BD73-85BEFA5BED17}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
AppCopyright={#AppName} contributors, MIT licence
AppMutex={#AppMutexName}
; Per-user install: no administrator rights, no UAC prompt. {autopf} becomes
; %LOCALAPPDATA%\Programs in this mode; the user's data lives apart, in %LOCALAPPDATA%\Outpost.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
DisableDirPage=auto
UsePreviousAppDir=yes
; Qt 6 needs 64-bit Windows 10 or later (x64compatible also admits Arm64 with x64 emulation).
MinVersion=10.0
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; If Outpost's files are still in use (the mutex check was skipped), close it, don't restart it.
CloseApplications=yes
RestartApplications=no
SetupIconFile=..\..\resources\outpost.ico
UninstallDisplayIcon={app}\{#AppExeName}
UninstallDisplayName={#AppName}
WizardStyle=modern
Compression=lzma2/max
SolidCompression=yes
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
VersionInfoVersion={#AppVersionNumeric}
VersionInfoProductName={#AppName}
VersionInfoProductTextVersion={#AppVersion}

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
english.AutostartTask=Start {#AppName} when I sign in to Windows (posts go out only while it runs)
english.DesktopTask=Create a desktop shortcut
english.DeleteDataPrompt=Also delete your posts, accounts and settings?%n%nThey are in %1.%nChoose No to keep them for a later reinstall.

[Tasks]
Name: "autostart"; Description: "{cm:AutostartTask}"; Flags: unchecked
Name: "desktopicon"; Description: "{cm:DesktopTask}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole bundle: stale modules from the previous version must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Comment: "Plan, schedule and publish social-media posts"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Registry]
; The same value app/ui/autostart.py writes, so the in-app setting and this task agree.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExeName}"" ""--background"""; Tasks: autostart; Flags: uninsdeletevalue
; Uninstall removes the value even when the user turned autostart on inside the app.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: none; ValueName: "{#AppName}"; Flags: uninsdeletevalue dontcreatekey

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
// The user's data (database, backups, logs) is in %LOCALAPPDATA%\Outpost (platformdirs, see
// app/store/paths.py). Uninstall keeps it unless the user says otherwise; a silent uninstall
// always keeps it.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DataDir: String;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  DataDir := ExpandConstant('{localappdata}\{#AppName}');
  if UninstallSilent or not DirExists(DataDir) then
    exit;
  if MsgBox(FmtMessage(CustomMessage('DeleteDataPrompt'), [DataDir]),
            mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
    DelTree(DataDir, True, True, True);
end;
