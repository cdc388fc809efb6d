import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Auth, CurrentUser } from '../access/access.decorators';
import { AuthenticatedUser } from '../access/principal';
import { ParseIdPipe } from '../http/id.pipe';
import {
  CreateNoteDto,
  ListNotesQueryDto,
  NotePageDto,
  NoteView,
  UpdateNoteDto,
} from './dto/note.dto';
import { NotesService } from './notes.service';

@ApiTags('notes')
@Auth()
@Controller('notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Post()
  @ApiCreatedResponse({ type: NoteView })
  create(@CurrentUser() user: AuthenticatedUser, @Body() dto: CreateNoteDto): Promise<NoteView> {
    return this.notes.create(user, dto);
  }

  @Get()
  @ApiOkResponse({ type: NotePageDto, description: 'Notes of your tenant, newest first' })
  list(
    @CurrentUser() user: AuthenticatedUser,
    @Query() query: ListNotesQueryDto,
  ): Promise<NotePageDto> {
    return this.notes.list(user, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: NoteView })
  @ApiNotFoundResponse({ description: 'No such note in your tenant' })
  get(@Param('id', ParseIdPipe) id: string): Promise<NoteView> {
    return this.notes.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: NoteView })
  @ApiNotFoundResponse({ description: 'No such note in your tenant' })
  @ApiForbiddenResponse({ description: 'Not the author and not an owner/admin' })
  update(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: string,
    @Body() dto: UpdateNoteDto,
  ): Promise<NoteView> {
    return this.notes.update(user, id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such note in your tenant' })
  @ApiForbiddenResponse({ description: 'Not the author and not an owner/admin' })
  remove(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', ParseIdPipe) id: string,
  ): Promise<void> {
    return this.notes.remove(user, id);
  }
}
